"""The Usage API, as OpenAI's: ``GET /v1/organization/usage/completions`` and
``…/usage/embeddings``, tokens and model requests per time bucket, grouped by project and model.
Only ``ASSISTANTD_ADMIN_KEY`` opens it (``objects/usage.py`` says how buckets are made)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from assistantd.api.auth import Admin
from assistantd.api.database import Db
from assistantd.errors import InvalidRequest
from assistantd.objects import usage
from assistantd.objects.usage import GROUPS, WIDTHS, UsageQuery

router = APIRouter(prefix="/organization/usage", dependencies=[Admin])


@router.get("/completions")
async def completions_usage(request: Request, db: Db) -> dict[str, Any]:
    return await usage.report(db, usage_query(request, "completions"))


@router.get("/embeddings")
async def embeddings_usage(request: Request, db: Db) -> dict[str, Any]:
    return await usage.report(db, usage_query(request, "embeddings"))


def usage_query(request: Request, kind: str) -> UsageQuery:
    """The query string, lists given as ``name=a&name=b`` or ``name[]=a&name[]=b``."""
    params = request.query_params
    width = params.get("bucket_width", "1d")
    if width not in WIDTHS:
        raise InvalidRequest(
            f"Invalid bucket_width {width!r}: expected one of {', '.join(WIDTHS)}.",
            param="bucket_width",
        )
    group_by = tuple(dict.fromkeys(_list(request, "group_by")))
    for group in group_by:
        if group not in GROUPS:
            raise InvalidRequest(
                f"Invalid group_by {group!r}: expected any of {', '.join(GROUPS)}.",
                param="group_by",
            )
    return UsageQuery(
        kind=kind,
        start_time=_integer(request, "start_time", required=True),  # type: ignore[arg-type]
        end_time=_integer(request, "end_time"),
        bucket_width=width,
        project_ids=frozenset(_list(request, "project_ids")),
        models=frozenset(_list(request, "models")),
        group_by=group_by,
        limit=_integer(request, "limit"),
        page=params.get("page"),
    )


def _list(request: Request, name: str) -> list[str]:
    params = request.query_params
    return [*params.getlist(name), *params.getlist(f"{name}[]")]


def _integer(request: Request, name: str, required: bool = False) -> int | None:
    text = request.query_params.get(name)
    if text is None:
        if required:
            raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
        return None
    try:
        value = int(text)
    except ValueError:
        raise InvalidRequest(f"Invalid {name} {text!r}: expected an integer.", param=name) from None
    if value < 0:
        raise InvalidRequest(f"Invalid {name} {value}: must not be negative.", param=name)
    return value
