"""What a backend says of a model's context window, where it says anything: the model's
``/v1/models`` entry (vLLM's ``max_model_len``, Groq's ``context_window``, OpenRouter's and
Together's ``context_length``), or the server's own endpoints beside ``/v1`` (llama.cpp's
``/props``, Ollama's ``/api/show`` and ``/api/ps``, TGI's ``/info``, LM Studio's
``/api/v0/models``). Nothing is guessed: where none of them says, the window is unknown."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

# A metadata request gets this long: a backend without the endpoint answers 404 at once.
METADATA_SECONDS = 5.0
_LISTING_FIELDS = ("max_model_len", "context_window", "context_length", "max_context_length")


@dataclass(frozen=True)
class ContextWindow:
    tokens: int | None  # None: unknown
    source: str  # where it was read, or why it is unknown
    backend: str | None = None  # the dialect the answering endpoint belongs to, if it tells


@dataclass(frozen=True)
class Endpoint:
    http: aiohttp.ClientSession
    base_url: str  # …/v1
    model: str

    @property
    def root(self) -> str | None:
        """The server's root, where its own endpoints are (None: the base is not …/v1)."""
        base = self.base_url.rstrip("/")
        return base.removesuffix("/v1") if base.endswith("/v1") else None

    async def get_json(self, url: str, body: dict[str, Any] | None = None) -> Any:
        """The JSON at ``url`` (POSTed ``body``, if given), or None on any failure."""
        try:
            async with asyncio.timeout(METADATA_SECONDS):
                if body is None:
                    response = await self.http.get(url)
                else:
                    response = await self.http.post(url, data=orjson.dumps(body))
                async with response:
                    if response.status != 200:
                        return None
                    return orjson.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None


def listing_entry(listing: Any, model: str) -> dict[str, Any] | None:
    """``model``'s entry in a ``/v1/models`` answer."""
    data = listing.get("data") if isinstance(listing, dict) else None
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict) and entry.get("id") == model:
            return entry
    return None


def from_listing(entry: dict[str, Any] | None) -> ContextWindow | None:
    for name in _LISTING_FIELDS:
        if entry is not None and _positive(entry.get(name)):
            backend = "vllm" if name == "max_model_len" else None
            return ContextWindow(int(entry[name]), f"/v1/models {name}", backend)
    return None


async def llamacpp(endpoint: Endpoint, root: str) -> ContextWindow | None:
    props = await endpoint.get_json(f"{root}/props?model={endpoint.model}")
    settings = props.get("default_generation_settings") if isinstance(props, dict) else None
    if isinstance(settings, dict) and _positive(settings.get("n_ctx")):
        return ContextWindow(int(settings["n_ctx"]), "llama.cpp /props n_ctx", "llamacpp")
    return None


async def ollama(endpoint: Endpoint, root: str) -> ContextWindow | None:
    shown = await endpoint.get_json(f"{root}/api/show", {"model": endpoint.model})
    if not isinstance(shown, dict) or "model_info" not in shown:
        return None
    if (num_ctx := _num_ctx(shown.get("parameters"))) is not None:
        return ContextWindow(num_ctx, "Ollama /api/show num_ctx", "ollama")
    if (loaded := await _ollama_loaded(endpoint, root)) is not None:
        return ContextWindow(loaded, "Ollama /api/ps context_length (as loaded now)", "ollama")
    trained = _trained_length(shown.get("model_info"))
    said = f"trained for {trained}, but " if trained else ""
    why = (
        f"unknown: {said}Ollama serves with its num_ctx (OLLAMA_CONTEXT_LENGTH; by default "
        "4k to 256k by VRAM), which it does not report until the model is loaded"
    )
    return ContextWindow(None, why, "ollama")


async def tgi(endpoint: Endpoint, root: str) -> ContextWindow | None:
    info = await endpoint.get_json(f"{root}/info")
    if isinstance(info, dict) and _positive(info.get("max_total_tokens")):
        return ContextWindow(int(info["max_total_tokens"]), "TGI /info max_total_tokens", "tgi")
    return None


async def lmstudio(endpoint: Endpoint, root: str) -> ContextWindow | None:
    entry = await endpoint.get_json(f"{root}/api/v0/models/{endpoint.model}")
    if not isinstance(entry, dict):
        return None
    for name in ("loaded_context_length", "max_context_length"):
        if _positive(entry.get(name)):
            return ContextWindow(int(entry[name]), f"LM Studio /api/v0 {name}", "lmstudio")
    return None


NativeSource = Callable[[Endpoint, str], Awaitable[ContextWindow | None]]
NATIVE_SOURCES: tuple[NativeSource, ...] = (llamacpp, ollama, tgi, lmstudio)


async def context_window(endpoint: Endpoint, entry: dict[str, Any] | None) -> ContextWindow:
    """The first source that answers, in the order above."""
    if (listed := from_listing(entry)) is not None:
        return listed
    if (root := endpoint.root) is not None:
        for source in NATIVE_SOURCES:
            if (found := await source(endpoint, root)) is not None:
                return found
    return ContextWindow(None, "unknown: the backend does not report it")


async def _ollama_loaded(endpoint: Endpoint, root: str) -> int | None:
    running = await endpoint.get_json(f"{root}/api/ps")
    models = running.get("models") if isinstance(running, dict) else None
    for model in models if isinstance(models, list) else []:
        names = {model.get("name"), model.get("model")} if isinstance(model, dict) else set()
        if endpoint.model in names and _positive(model.get("context_length")):
            return int(model["context_length"])
    return None


def _num_ctx(parameters: object) -> int | None:
    found = (
        re.search(r"^\s*num_ctx\s+(\d+)", parameters, re.M) if isinstance(parameters, str) else None
    )
    return int(found.group(1)) if found else None


def _trained_length(model_info: object) -> int | None:
    if not isinstance(model_info, dict):
        return None
    lengths = [v for k, v in model_info.items() if k.endswith(".context_length") and _positive(v)]
    return int(lengths[0]) if lengths else None


def _positive(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
