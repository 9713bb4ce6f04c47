"""``POST /v1/embeddings``: passed through to the model's route, or, for the local embedding
model file_search uses (all-MiniLM-L6-v2, when no route takes that name), answered in-process
(``api/local_embeddings.py``), so it works with no model server at all."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from assistantd.api.auth import Tenant
from assistantd.api.call_usage import count_model_call
from assistantd.api.chat_completions import api_error, json_answer, route_for
from assistantd.api.local_embeddings import embed_locally, is_local_model
from assistantd.api.rate_limits import admit_model_call
from assistantd.llm.passthrough import Passthrough
from assistantd.llm.passthrough_errors import PassthroughError
from assistantd.store.usage import EMBEDDINGS
from assistantd.wire.model_endpoints import embeddings_request, json_object

router = APIRouter()


@router.post("/embeddings")
async def create_embeddings(request: Request, tenant: Tenant) -> Response:
    body = embeddings_request(json_object(await request.body()))
    model = body["model"]
    headers = await admit_model_call(request, model)
    if is_local_model(request.app, model):
        answer = await embed_locally(request.app, body)
    else:
        try:
            answer = await Passthrough(route_for(request, model)).embed(body)
        except PassthroughError as error:
            raise api_error(error, headers) from error
    await count_model_call(request, tenant, EMBEDDINGS, model, answer.used_tokens, answer.counts)
    return json_answer(answer, headers)
