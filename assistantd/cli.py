"""The ``assistantd`` command: ``serve``, ``worker``, ``migrate``, ``build-model``,
``scripted-model`` and ``doctor`` (what a model endpoint supports, and the route settings to use).

One process does everything by default (``serve``). To scale out on PostgreSQL (and Redis for
run events), run any number of ``serve --no-worker`` (HTTP only) and ``worker`` (runs,
indexing, code sessions; no HTTP) processes; see ``deploy/scale-out.md``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import socket
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from assistantd.config import Settings
from assistantd.doctor import command as doctor_command
from assistantd.observability import logs
from assistantd.observability.logs import LogFormat
from assistantd.scripted_model import command as scripted_model_command
from assistantd.startup import (
    StartupError,
    check_database,
    load_settings,
    masked,
    misspelled_variables,
    summary,
)

log = logging.getLogger("assistantd")
# After SIGTERM and the runs' grace period, open requests get this long before being cut.
REQUESTS_GRACE_SECONDS = 5


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logs.configure(_log_format())
    try:
        return args.handler(args)
    except StartupError as error:
        # A configuration mistake: said in a line or two, not a traceback.
        for line in str(error).splitlines():
            print(f"assistantd: {line}", file=sys.stderr)
        return 2


def _log_format() -> LogFormat:
    try:
        return Settings().log_format
    except Exception:  # invalid settings: the command itself says what is wrong, in text
        return "text"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistantd",
        description=__doc__,
        epilog="Settings come from ASSISTANTD_* environment variables (see the README). "
        "`assistantd COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"assistantd {_version()}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    _add_serve(commands)
    worker = commands.add_parser(
        "worker",
        help="execute runs, index vector-store files and host code sessions, without HTTP "
        "(beside `serve --no-worker` processes on the same PostgreSQL database)",
        description="Execute runs, index vector-store files and host code sessions, with no "
        "HTTP, until SIGTERM or SIGINT (then in-flight runs get ASSISTANTD_SHUTDOWN_GRACE_"
        "SECONDS to finish, or are handed back). Needs a shared PostgreSQL database.",
    )
    worker.set_defaults(handler=_worker)
    _add_migrate(commands)
    build_model = commands.add_parser(
        "build-model",
        help="build the local embedding model's ONNX file now (at set-up: `make model`; where "
        "the weights are installed, `serve` and `worker` also build a missing one at start-up)",
        description="Build the int8 (or ASSISTANTD_EMBEDDING_LOCAL_RUNTIME's) ONNX form of the "
        "local embedding model from the installed weights into ASSISTANTD_EMBEDDING_MODEL_"
        "CACHE_DIR, unless it is there already, and print its path. Nothing is downloaded. "
        "Needs the weights and onnx (the local-embeddings-build extra), which serving does not: "
        "`make model` builds it in a throwaway environment that has them.",
    )
    build_model.add_argument(
        "--all-cpus",
        action="store_true",
        help="build the int8 model for both kinds of CPU (with VNNI, and 7-bit weights for "
        "those without), for an image that may run on either",
    )
    build_model.set_defaults(handler=_build_model)
    scripted = commands.add_parser(
        "scripted-model",
        help="serve the deterministic scripted model (an OpenAI-compatible stand-in for an LLM)",
        description="Serve the scripted model: an OpenAI-compatible /v1/chat/completions that "
        "answers as its script says, for trying assistantd and for tests.",
    )
    scripted_model_command.add_arguments(scripted)
    scripted.set_defaults(handler=_scripted_model)
    doctor = commands.add_parser(
        "doctor", help=doctor_command.HELP, description=doctor_command.DESCRIPTION
    )
    doctor_command.add_arguments(doctor)
    doctor.set_defaults(handler=doctor_command.run)
    return parser


def _add_serve(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the Assistants API under /v1",
        description="Serve the Assistants API under /v1 (and /health). Migrates the database "
        "first. On SIGTERM it stops taking runs, gives those in flight ASSISTANTD_SHUTDOWN_"
        "GRACE_SECONDS to finish (or hands them back), ends open streams and exits 0.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn's log level (info)",
    )
    serve.add_argument(
        "--with-scripted-model",
        action="store_true",
        help="also serve the scripted model under /scripted/v1 and use it as the default model "
        "endpoint (for a first try without an LLM)",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="answer the API only: runs, indexing and code sessions are left to `assistantd "
        "worker` processes sharing the PostgreSQL database",
    )
    serve.set_defaults(handler=_serve)


def _add_migrate(commands: argparse._SubParsersAction) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="bring the database to the newest schema (or --check whether it is)",
        description="Apply the migrations ASSISTANTD_DATABASE_URL's database lacks (serve and "
        "worker also do this at start-up).",
    )
    migrate.add_argument(
        "--check",
        action="store_true",
        help="change nothing: exit 0 if the database is at the newest schema, else 1, listing "
        "the pending migrations",
    )
    migrate.set_defaults(handler=_migrate)


def _version() -> str:
    try:
        return metadata.version("assistantd")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _settings(role: str) -> Settings:
    """The settings, checked: what is wrong (a value, an unreachable database) stops the
    start-up in a line (``StartupError``); what looks misspelled is warned of."""
    settings = load_settings()
    for warning in misspelled_variables():
        log.warning("%s", warning)
    asyncio.run(check_database(settings))
    return settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from assistantd.app import create_app
    from assistantd.http_deadlines import uvicorn_options

    role = "serve --no-worker" if args.no_worker else "serve"
    settings = _settings(role)
    if args.no_worker and not settings.resolved_database_url.startswith("postgresql"):
        raise StartupError(
            "serve --no-worker leaves runs to worker processes, which need a shared "
            "PostgreSQL database: set ASSISTANTD_DATABASE_URL=postgresql+asyncpg://…"
        )
    if args.with_scripted_model:
        settings.llm_base_url = f"http://{args.host}:{args.port}/scripted/v1"
    log.info("%s", summary(settings, role))
    app = create_app(
        settings, mount_scripted_model=args.with_scripted_model, execute=not args.no_worker
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        # uvicorn's lines go through the process's handler: its format, with request ids.
        log_config=None,
        # After the runs' grace period, what is left (streams were ended then) gets this long.
        timeout_graceful_shutdown=REQUESTS_GRACE_SECONDS,
        **uvicorn_options(settings),
    )
    _server(config, app).run()
    return 0


def _server(config: Any, app: Any) -> Any:
    """uvicorn's server, freezing start-up's objects out of the GC's sight and draining runs
    on SIGTERM (uvicorn is imported only by ``serve``)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # What exists once the app has started (modules, the app, the engine's workers)
            # lives as long as the process: out of the garbage collector's sight, its full
            # passes (which stall every stream while they walk all tracked objects) are shorter.
            gc.collect()
            gc.freeze()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            for server in self.servers:
                server.close()  # no new connections while the runs drain
            services = getattr(app.state, "services", None)
            try:
                if services is not None:
                    await services.drain()
            except Exception:  # draining failed: shut down all the same (leases then lapse)
                log.exception("draining runs at shutdown")
            await super().shutdown(sockets)
            # The signal was a request to stop, and it has been honoured: exit 0, rather than
            # die of the signal uvicorn would raise again once it has shut down.
            self._captured_signals.clear()

    return Server(config)


def _worker(_args: argparse.Namespace) -> int:
    from assistantd.worker import run_worker

    settings = _settings("worker")
    if not settings.resolved_database_url.startswith("postgresql"):
        raise StartupError(
            "a worker takes runs from a shared PostgreSQL database: set "
            "ASSISTANTD_DATABASE_URL=postgresql+asyncpg://… (one `assistantd serve` does "
            "everything on the embedded SQLite default)"
        )
    log.info("%s", summary(settings, "worker"))
    asyncio.run(run_worker(settings))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from assistantd.store.database import Database

    settings = _settings("migrate")
    where = masked(settings.resolved_database_url)

    async def run() -> list[str]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url, settings.database_pool_size)
        try:
            return await (db.pending_migrations() if args.check else db.migrate())
        finally:
            await db.dispose()

    migrations = asyncio.run(run())
    if args.check:
        if migrations:
            print(f"{where} lacks {len(migrations)} migrations (run `assistantd migrate`):")
            print("\n".join(f"  {migration}" for migration in migrations))
            return 1
        print(f"{where} is at the newest schema")
        return 0
    if not migrations:
        print(f"{where} was at the newest schema already")
    for migration in migrations:
        print(f"{where}: applied {migration}")
    return 0


def _build_model(args: argparse.Namespace) -> int:
    from assistantd.retrieval.embedder import make_embedder

    settings = load_settings()
    if settings.embedding_backend != "local":
        print("ASSISTANTD_EMBEDDING_BACKEND is not `local`: there is no model to build")
        return 0
    prepare = getattr(make_embedder(settings), "prepare", lambda reduced=None: None)
    kinds = (False, True) if args.all_cpus else (None,)
    try:
        built = list(dict.fromkeys(prepare(reduced) for reduced in kinds))
    except Exception as error:  # weights not installed, a failed build: said in a line
        raise StartupError(f"the local embedding model cannot be built: {error}") from error
    print("\n".join(str(path or "the torch runtime builds no model file") for path in built))
    return 0


def _scripted_model(args: argparse.Namespace) -> int:
    scripted_model_command.run_from_arguments(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
