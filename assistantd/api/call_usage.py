"""What a pass-through chat completion or embeddings call used, counted twice once its tokens
are known: against the project's token limit, and in the Usage API's minutes."""

from __future__ import annotations

from fastapi import Request

from assistantd.api.rate_limits import record_model_tokens
from assistantd.llm.passthrough import TokenCounts
from assistantd.objects import usage
from assistantd.store.usage import Tokens


async def count_model_call(
    request: Request, tenant: str, kind: str, model: str, total: int, counts: TokenCounts
) -> None:
    await record_model_tokens(request, model, total)
    tokens = Tokens(counts.input, counts.output, counts.cached)
    await usage.record(request.app.state.db, kind, tenant, model, tokens)
