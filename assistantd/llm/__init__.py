"""Model backends: the interface the run engine calls models through, and its routing.

router = ModelRouter(settings)
route = router.resolve("gpt-4o")            # NoBackendConfigured if nothing serves it
async for chunk in route.stream_chat(ChatRequest(model="gpt-4o", messages=[...])):
    ...                                      # UpstreamError(code, message) on failure
"""

from assistantd.llm.chat import ChatChunk, ChatRequest, ModelBackend, ToolCallDelta, Usage
from assistantd.llm.errors import NoBackendConfigured, UpstreamError, UpstreamErrorCode
from assistantd.llm.openai_backend import OpenAICompatibleBackend
from assistantd.llm.router import ModelRouter, Route

__all__ = [
    "ChatChunk",
    "ChatRequest",
    "ModelBackend",
    "ModelRouter",
    "NoBackendConfigured",
    "OpenAICompatibleBackend",
    "Route",
    "ToolCallDelta",
    "UpstreamError",
    "UpstreamErrorCode",
    "Usage",
]
