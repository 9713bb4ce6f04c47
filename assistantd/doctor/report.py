"""What the doctor found: one finding per feature, the settings it recommends, and whether runs
work on the route at all."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# ok: works as OpenAI's does; differs: works, in a way assistantd reads or adapts to;
# missing: not there (assistantd does without, or a setting makes up for it); failed: runs fail;
# none: nothing of it seen (no reasoning streamed); unknown: the backend does not say.
Status = Literal["ok", "differs", "missing", "failed", "none", "unknown"]


@dataclass(frozen=True)
class Finding:
    feature: str
    status: Status
    detail: str


@dataclass
class Report:
    base_url: str
    model: str  # the upstream model name probed
    route: str | None = None  # the name clients use, when probed through the configuration
    usable: bool = False
    error: str | None = None  # why runs cannot work there, in a line
    backend: str | None = None  # the dialect the evidence points at, if any
    findings: list[Finding] = field(default_factory=list)
    # Route settings to add (dialect, context_window, tool_calling); empty: none needed.
    recommended: dict[str, Any] = field(default_factory=dict)
    route_entry: dict[str, Any] = field(default_factory=dict)  # the whole route, as advised
    notes: list[str] = field(default_factory=list)

    def add(self, feature: str, status: Status, detail: str) -> None:
        self.findings.append(Finding(feature, status, detail))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
