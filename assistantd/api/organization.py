"""The Administration API, as OpenAI's: ``/v1/organization/projects`` and each project's
``service_accounts``, ``api_keys`` and ``rate_limits``. Only ``ASSISTANTD_ADMIN_KEY`` opens it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from assistantd.api.auth import Admin
from assistantd.api.database import Db
from assistantd.objects import project_rate_limits, projects, service_accounts
from assistantd.objects.projects import ListRequest
from assistantd.wire.organization import (
    CreateProject,
    CreateServiceAccount,
    ModifyProject,
    ModifyRateLimit,
)


def list_request(
    limit: Annotated[int, Query(ge=1, le=100)] = 20, after: str | None = None
) -> ListRequest:
    return ListRequest(limit=limit, after=after)


Listing = Annotated[ListRequest, Depends(list_request)]

router = APIRouter(prefix="/organization/projects", dependencies=[Admin])


@router.post("")
async def create_project(body: CreateProject, db: Db) -> dict[str, Any]:
    return await projects.create(db, body.name)


@router.get("")
async def list_projects(db: Db, listing: Listing, include_archived: bool = False) -> dict[str, Any]:
    return (await projects.list_page(db, listing, include_archived)).envelope()


@router.get("/{project_id}")
async def get_project(project_id: str, db: Db) -> dict[str, Any]:
    return await projects.retrieve(db, project_id)


@router.post("/{project_id}")
async def modify_project(project_id: str, body: ModifyProject, db: Db) -> dict[str, Any]:
    return await projects.rename(db, project_id, body.name)


@router.post("/{project_id}/archive")
async def archive_project(project_id: str, db: Db) -> dict[str, Any]:
    return await projects.archive(db, project_id)


@router.post("/{project_id}/service_accounts")
async def create_service_account(
    project_id: str, body: CreateServiceAccount, db: Db
) -> dict[str, Any]:
    return await service_accounts.create_account(db, project_id, body.name)


@router.get("/{project_id}/service_accounts")
async def list_service_accounts(project_id: str, db: Db, listing: Listing) -> dict[str, Any]:
    return (await service_accounts.list_accounts(db, project_id, listing)).envelope()


@router.get("/{project_id}/service_accounts/{account_id}")
async def get_service_account(project_id: str, account_id: str, db: Db) -> dict[str, Any]:
    row = await service_accounts.account(db, project_id, account_id)
    return service_accounts.account_to_wire(row)


@router.delete("/{project_id}/service_accounts/{account_id}")
async def delete_service_account(project_id: str, account_id: str, db: Db) -> dict[str, Any]:
    return await service_accounts.delete_account(db, project_id, account_id)


@router.get("/{project_id}/api_keys")
async def list_api_keys(project_id: str, db: Db, listing: Listing) -> dict[str, Any]:
    return (await service_accounts.list_keys(db, project_id, listing)).envelope()


@router.get("/{project_id}/api_keys/{key_id}")
async def get_api_key(project_id: str, key_id: str, db: Db) -> dict[str, Any]:
    return await service_accounts.key(db, project_id, key_id)


@router.delete("/{project_id}/api_keys/{key_id}")
async def delete_api_key(project_id: str, key_id: str, db: Db) -> dict[str, Any]:
    return await service_accounts.delete_key(db, project_id, key_id)


@router.get("/{project_id}/rate_limits")
async def list_rate_limits(project_id: str, db: Db) -> dict[str, Any]:
    return (await project_rate_limits.list_page(db, project_id)).envelope()


@router.post("/{project_id}/rate_limits/{rate_limit_id}")
async def modify_rate_limit(
    project_id: str, rate_limit_id: str, body: ModifyRateLimit, db: Db
) -> dict[str, Any]:
    return await project_rate_limits.modify(db, project_id, rate_limit_id, body)
