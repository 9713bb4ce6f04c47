"""Server-wide options of the scripted model (the CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScriptedModelOptions:
    token_delay_ms: float = 0  # pause between streamed chunks of default replies
    reply_words: int = 0  # pad default replies to this many words (benchmarks)
    context_window: int | None = None  # reject longer prompts (context_length_exceeded); 0 = none
    models: tuple[str, ...] = field(default=("scripted",))  # ids listed by GET /v1/models
    requests_kept: int = 200  # request bodies remembered per model for GET /_requests
    # The dialect of models that ``POST /_script`` gave none (``dialects.DIALECTS``).
    dialect: str = "openai"
