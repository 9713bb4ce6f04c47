"""``/v1/models``: the models the configured backends serve."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from assistantd.api.auth import Tenant
from assistantd.errors import NotFound
from assistantd.llm.router import ModelRouter

router = APIRouter(prefix="/models")

# Upstreams rarely say when a model appeared; the Model object needs a number.
UNKNOWN_CREATED = 0


def model_router(request: Request) -> ModelRouter:
    return request.app.state.model_router


Models = Annotated[ModelRouter, Depends(model_router)]


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": UNKNOWN_CREATED, "owned_by": "assistantd"}


@router.get("")
async def list_models(_tenant: Tenant, models: Models) -> dict[str, Any]:
    return {"object": "list", "data": [_model(name) for name in await models.list_models()]}


@router.get("/{model_id:path}")
async def get_model(model_id: str, _tenant: Tenant, models: Models) -> dict[str, Any]:
    if model_id not in await models.list_models():
        raise NotFound(f"The model '{model_id}' does not exist", "model", "model_not_found")
    return _model(model_id)
