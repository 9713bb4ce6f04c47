"""Server configuration, read from ``ASSISTANTD_*`` environment variables (and an optional file).

The variable names are a contract other tools rely on; see the README's configuration table.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The smallest code_interpreter memory limit a kernel with the data-science stack works in.
MIN_KERNEL_MB = 384


Dialect = Literal[
    "openai",
    "openai-reasoning",
    "ollama",
    "vllm",
    "llamacpp",
    "lmstudio",
    "tgi",
    "anthropic",
    "gemini",
    "groq",
    "openrouter",
    "azure",
]


class ModelRoute(BaseModel):
    """Where one model name is served: its own endpoint, key and upstream model name."""

    # A misspelled key ("baseurl", "apikey") would otherwise be dropped without a word.
    model_config = ConfigDict(extra="forbid")

    base_url: str
    api_key: str | None = None
    model: str | None = None  # the upstream name; defaults to the name the client asked for
    context_window: int | None = None
    # The backend's dialect (README, "Plugging in your model"): pins the request fields it is
    # known to refuse, instead of learning them from its first 400s.
    dialect: Dialect | None = None
    # Tool calls (README, "Plugging in your model"): the backend's own, emulated in the prompt,
    # or native until the backend refuses tools and emulated from then on.
    tool_calling: Literal["native", "emulated", "auto"] = "auto"


# The drivers assistantd ships: the URL schemes people write first are taken to mean them.
_ASYNC_SCHEMES = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
_SUPPORTED_SCHEMES = ("postgresql+asyncpg", "sqlite+aiosqlite")


def async_database_url(url: str) -> str:
    """``url`` with the async driver assistantd ships: ``postgresql://`` (as psql and most tools
    write it) becomes ``postgresql+asyncpg://``; another driver is refused, saying which to use."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError(
            "ASSISTANTD_DATABASE_URL is not a URL: use postgresql+asyncpg://user:password@host/db "
            "or sqlite+aiosqlite:///path/to/file.db"
        )
    scheme = _ASYNC_SCHEMES.get(scheme.lower(), scheme)
    if scheme not in _SUPPORTED_SCHEMES:
        raise ValueError(
            f"ASSISTANTD_DATABASE_URL uses the driver {scheme!r}, which assistantd does not "
            "ship: use postgresql+asyncpg://… (or plain postgresql://) or sqlite+aiosqlite:///…"
        )
    return f"{scheme}://{rest}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANTD_",
        env_file=None,
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Path(".assistantd")
    database_url: str | None = None
    # Scale-out: the event bus every process publishes run events to and streams them from
    # (unset: in this process's memory, for one process).
    redis_url: str | None = None
    # PostgreSQL connections each process keeps open at most (kept once opened: opening one and
    # preparing its statements costs milliseconds of CPU, see bench_scale_out).
    database_pool_size: int = Field(default=30, ge=1)
    # The data dir is on storage every process mounts (e.g. NFS): local file bytes then count
    # as shared between processes.
    shared_data_dir: bool = False
    api_keys: str | None = None
    # The Administration API's key (/v1/organization/…); set, only project keys (and
    # ASSISTANTD_API_KEYS) open the other routes. How often each process checks whether a key
    # was deleted, a project archived or a rate limit changed on any process (issue #13).
    admin_key: str | None = None
    auth_cache_seconds: float = Field(default=1.0, gt=0, le=2)
    # The browser console at /console (issue #15); off: /console is not served.
    console: bool = True

    # The default OpenAI-compatible chat-completions endpoint, and per-model routes (JSON).
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    model_routes: dict[str, ModelRoute] = Field(default_factory=dict)
    llm_timeout_seconds: float = 120.0
    llm_connect_timeout_seconds: float = 10.0
    llm_max_retries: int = 2
    default_context_window: int = 32768
    # Model backend hardening (issue #11 §6): the whole model call (retries and their backoff
    # included) has an end, besides ``llm_timeout_seconds`` of silence between events.
    llm_total_timeout_seconds: float = 600.0

    # The run engine.
    run_workers: int = 64
    run_expiry_seconds: int = 600
    poll_after_ms: int = 50
    # A worker holds each run it executes under a lease it renews; a run whose lease lapses (its
    # process died) is recovered by another process. The sweeper also expires overdue runs.
    run_lease_seconds: float = 8.0
    run_sweep_interval_seconds: float = 1.0
    # SIGTERM: runs executing here get this long to finish; those still going are then handed
    # back to the queue (another process, or this one's next start, takes them up).
    shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    # Idle seconds before an event stream sends a keep-alive comment (below common proxy idle
    # timeouts of 30–60 s).
    stream_keepalive_seconds: float = Field(default=15.0, gt=0)

    # Files. Where their bytes live: unset, under the data dir (seen by this machine only);
    # "s3://bucket/prefix", in an S3-compatible bucket every server process shares (issue #12),
    # reached through the standard AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
    # AWS_REGION variables. The bucket must exist; start-up fails, saying why, if it cannot be used.
    blob_url: str | None = None
    max_file_bytes: int = 512 * 1024 * 1024
    # How often expired files are deleted for good (to clients they are gone at once).
    file_sweep_interval_seconds: float = 60.0
    # Retention (off by default): threads with no message or run for this many days, and files
    # uploaded this many days ago, are deleted as their DELETE would, and usage minutes (the
    # Usage API's counts) that ended this many days ago; swept every interval.
    retention_thread_days: float | None = Field(default=None, gt=0)
    retention_file_days: float | None = Field(default=None, gt=0)
    retention_usage_days: float | None = Field(default=None, gt=0)
    retention_sweep_interval_seconds: float = Field(default=3600.0, gt=0)
    # Vector-store files indexed at the same time (parse, chunk, embed, index).
    ingestion_workers: int = 2
    # How often the ingestion worker looks for vector-store files waiting to be indexed that it
    # was not handed (added through another server process, or left by a restart).
    ingestion_sweep_interval_seconds: float = 1.0
    # A server holds each vector-store file it indexes under a lease it renews; a file whose
    # lease lapses (its server died) is indexed by another server.
    ingestion_lease_seconds: float = Field(default=30.0, gt=0)

    # Hardening of files and uploads (issue #11): the most a document may expand to while it is
    # parsed for a vector store: a DOCX's unpacked parts (as declared, checked before inflating),
    # an HTML or JSON file's size (parsed into a tree), a PDF's extracted text. Beyond that the
    # file fails as invalid_file.
    max_parsed_bytes: int = 64 * 1024 * 1024

    # Embeddings for vector stores / file_search: "local" runs the bundled all-MiniLM-L6-v2 on the
    # CPU; "openai" calls any OpenAI-compatible /v1/embeddings endpoint.
    embedding_backend: Literal["local", "openai"] = "local"
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    embedding_model: str = "text-embedding-3-small"
    embedding_dimensions: int | None = None
    # Texts per request to a remote (``openai``) embeddings endpoint; the local model batches by
    # word pieces on its own.
    embedding_batch_size: int = 32
    # How the local model runs: "auto" is onnxruntime with int8 weights when onnxruntime is
    # installed (built once from the shipped weights, no download), else torch fp32;
    # "onnx-fp32" gives torch's vectors faster; "torch" needs no onnxruntime.
    embedding_local_runtime: Literal["auto", "onnx-int8", "onnx-fp32", "torch"] = "auto"
    # Where the built ONNX models are cached; default $XDG_CACHE_HOME/assistantd/models.
    embedding_model_cache_dir: Path | None = None
    # How long a file_search call waits for its stores' files still being indexed before it
    # searches what is ready (a thread's fresh attachments are usually still in progress).
    file_search_wait_seconds: float = 30.0

    # Slow HTTP clients (issue #11 §7): a connection whose request headers are not complete
    # this long after it opened (or after a next request began) gets 408 and is closed; a body
    # that sends nothing this long is cut off. Concurrent connections and requests beyond the
    # limit (unset: none) are answered 503 by uvicorn.
    http_header_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    http_limit_concurrency: int | None = None

    # Observability: log lines as plain text or one JSON object a line; where an `assistantd
    # worker` (which serves no HTTP) answers Prometheus' scrapes (unset: nowhere; `serve`
    # answers them at /metrics); the OTLP/HTTP collector traces go to (the otel extra; the
    # standard OTEL_EXPORTER_OTLP_ENDPOINT works too).
    log_format: Literal["text", "json"] = "text"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    otel_endpoint: str | None = None

    # code_interpreter.
    code_interpreter_idle_seconds: float = 3600.0
    code_interpreter_exec_timeout_seconds: float = 60.0
    code_interpreter_memory_mb: int = 1024  # RLIMIT_DATA of the kernel; at least MIN_KERNEL_MB
    # Bytes of output files (and displayed images) stored from one call and from one session's
    # life, counted as stored (a sparse file counts its full length); the rest is left out.
    code_interpreter_max_output_bytes_per_call: int = 64 * 1024 * 1024
    code_interpreter_max_output_bytes_per_session: int = 256 * 1024 * 1024
    # Live sessions (one kernel each, ~50 MB); a new one evicts the least recently used idle one.
    code_interpreter_max_sessions: int = Field(default=32, ge=1)

    @field_validator("code_interpreter_memory_mb")
    @classmethod
    def _kernel_fits(cls, value: int) -> int:
        # A kernel with numpy, pandas and matplotlib loaded holds ~220 MB; below this it fails
        # to start or to import them, which would only show up as every call failing.
        if value < MIN_KERNEL_MB:
            raise ValueError(
                f"ASSISTANTD_CODE_INTERPRETER_MEMORY_MB={value} is too small for a Python kernel"
                f" with numpy, pandas and matplotlib; use at least {MIN_KERNEL_MB}"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        return None if value is None else async_database_url(value)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @cached_property
    def tenant_keys(self) -> frozenset[str]:
        """The accepted bearer keys; empty means single-tenant, any key accepted."""
        if not self.api_keys:
            return frozenset()
        return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())

    @property
    def keys_required(self) -> bool:
        """Whether requests need a known key (else single-tenant, any key accepted)."""
        return bool(self.tenant_keys) or bool(self.admin_key)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'assistantd.sqlite3').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def sandboxes_dir(self) -> Path:
        return self.data_dir / "sandboxes"
