"""The cursor-list query parameters: ``limit`` 1..100 (default 20), ``order``, ``after``,
``before``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from assistantd.store.documents import PageRequest


def list_params(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
    before: str | None = None,
) -> PageRequest:
    return PageRequest(limit=limit, order=order, after=after, before=before)


ListParams = Annotated[PageRequest, Depends(list_params)]
