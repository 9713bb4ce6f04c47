"""Rate limits per project and model, as OpenAI's project rate limits: requests and tokens per
minute, refused with 429 ``rate_limit_exceeded`` and told in ``x-ratelimit-*`` headers.

What counts: each run creation (create run, create thread and run) is one request against the
run's model (the request's ``model``, else the assistant's), counted in fixed one-minute windows
shared by every process (``store.request_counters``). Tokens are the prompt and completion
tokens that the project's runs of that model created in the last 60 seconds have used so far
(read from the runs themselves, so every process sees the same); a run is refused once they have
reached the limit (a run's own tokens are not known before it runs). Chat completions and
embeddings (``/v1/chat/completions``, ``/v1/embeddings``) count as requests the same way, and
their tokens, which no run holds, are added up per one-minute window in the request counters.
A project without a limit for the model costs nothing: its limits come with its key from the
key cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistantd.errors import RateLimited
from assistantd.objects.key_cache import Identity, ModelLimit
from assistantd.store import rate_limits
from assistantd.store.database import Database
from assistantd.store.request_counters import WINDOW_SECONDS, RequestCounter


@dataclass
class Admission:
    """The headers to send; ``refusal`` set when the request is over a limit."""

    headers: dict[str, str] = field(default_factory=dict)
    refusal: RateLimited | None = None


class RateLimiter:
    def __init__(
        self, db: Database, counter: RequestCounter, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._counter = counter
        self._clock = clock

    def limit_for(self, identity: Identity | None, model: str) -> ModelLimit | None:
        return None if identity is None else identity.limits.get(model)

    async def admit(self, identity: Identity, limit: ModelLimit, model: str) -> Admission:
        now = self._clock()
        admission = Admission()
        if limit.tokens_per_minute is not None:
            await self._tokens(admission, identity, limit.tokens_per_minute, model, now)
        if admission.refusal is None and limit.requests_per_minute is not None:
            await self._requests(admission, identity, limit.requests_per_minute, model, now)
        if admission.refusal is not None:
            admission.refusal.headers = admission.headers
        return admission

    async def _requests(
        self, admission: Admission, identity: Identity, limit: int, model: str, now: float
    ) -> None:
        window = int(now) // WINDOW_SECONDS * WINDOW_SECONDS
        used = await self._counter.count(identity.project_id, model, window)
        admission.headers.update({
            "x-ratelimit-limit-requests": str(limit),
            "x-ratelimit-remaining-requests": str(max(0, limit - used)),
            "x-ratelimit-reset-requests": duration(window + WINDOW_SECONDS - now),
        })  # fmt: skip
        if used > limit:
            admission.refusal = _refusal(identity, model, "requests", "RPM", limit, used - 1)

    async def _tokens(
        self, admission: Admission, identity: Identity, limit: int, model: str, now: float
    ) -> None:
        since = int(now) - WINDOW_SECONDS
        used, oldest = await rate_limits.run_tokens(self._db, identity.tenant, model, since)
        reset = 0.0 if oldest is None or used == 0 else oldest + WINDOW_SECONDS - now
        window = int(now) // WINDOW_SECONDS * WINDOW_SECONDS
        passed_through = await self._counter.add(identity.project_id, _tokens(model), window, 0)
        if passed_through:
            used += passed_through
            reset = max(reset, window + WINDOW_SECONDS - now)
        admission.headers.update({
            "x-ratelimit-limit-tokens": str(limit),
            "x-ratelimit-remaining-tokens": str(max(0, limit - used)),
            "x-ratelimit-reset-tokens": duration(reset),
        })  # fmt: skip
        if used >= limit:
            admission.refusal = _refusal(identity, model, "tokens", "TPM", limit, used)

    async def record_tokens(self, identity: Identity | None, model: str, amount: int) -> None:
        """Count the tokens a chat completion or embeddings call used (no run holds them),
        in the current one-minute window, where the project has a token limit for ``model``."""
        limit = self.limit_for(identity, model)
        if identity is None or limit is None or limit.tokens_per_minute is None or amount <= 0:
            return
        window = int(self._clock()) // WINDOW_SECONDS * WINDOW_SECONDS
        await self._counter.add(identity.project_id, _tokens(model), window, amount)


def _tokens(model: str) -> str:
    """The counter of ``model``'s pass-through tokens, beside its requests' (no model name
    holds a unit separator)."""
    return f"{model}\x1ftokens"


def duration(seconds: float) -> str:
    """A wait as OpenAI writes it in ``x-ratelimit-reset-*``: ``20ms``, ``1.5s``, ``1m0s``."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


def _refusal(
    identity: Identity, model: str, kind: str, short: str, limit: int, used: int
) -> RateLimited:
    message = (
        f"Rate limit reached for {model} in project {identity.project_id} on {kind} per min"
        f" ({short}): Limit {limit}, Used {used}, Requested 1. Please try again later."
    )
    return RateLimited(message, kind)
