"""How each backend describes a model it serves, for the scripted model to describe its models
so: the entry ``GET /v1/models`` lists (vLLM adds ``max_model_len``, Groq ``context_window``,
OpenRouter ``context_length``), and the endpoints of their own that some servers have beside
``/v1`` (llama.cpp's ``GET /props``, Ollama's ``POST /api/show``). ``context_window`` is the
one the model was scripted with (None: the backend would say nothing of it, or not know)."""

from __future__ import annotations

from typing import Any

# What Ollama's model_info reports as the length a model was trained for: not what it serves
# with (num_ctx), which the scripted model's context_window stands for.
TRAINED_CONTEXT = 131072


def openai_entry(model: str, context_window: int | None) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "scripted-model"}


def vllm_entry(model: str, context_window: int | None) -> dict[str, Any]:
    entry = openai_entry(model, context_window) | {"owned_by": "vllm", "root": model}
    return entry | ({"max_model_len": context_window} if context_window else {})


def ollama_entry(model: str, context_window: int | None) -> dict[str, Any]:
    return openai_entry(model, context_window) | {"owned_by": "library"}


def groq_entry(model: str, context_window: int | None) -> dict[str, Any]:
    entry = openai_entry(model, context_window) | {"owned_by": "Meta", "active": True}
    return entry | ({"context_window": context_window} if context_window else {})


def openrouter_entry(model: str, context_window: int | None) -> dict[str, Any]:
    entry = openai_entry(model, context_window) | {"name": model}
    return entry | ({"context_length": context_window} if context_window else {})


def llamacpp_props(model: str, context_window: int | None, supports_tools: bool) -> Any:
    """llama.cpp's ``GET /props``: ``n_ctx`` is the context the server was started with."""
    settings = {"n_ctx": context_window or 4096, "model": model}
    return {"default_generation_settings": settings, "total_slots": 1, "model_path": model}


def ollama_show(model: str, context_window: int | None, supports_tools: bool) -> Any:
    """Ollama's ``POST /api/show``: ``num_ctx`` only when the Modelfile sets it."""
    return {
        "parameters": f"num_ctx {context_window}" if context_window else "",
        "model_info": {"general.architecture": "llama", "llama.context_length": TRAINED_CONTEXT},
        "capabilities": ["completion", "tools"] if supports_tools else ["completion"],
    }
