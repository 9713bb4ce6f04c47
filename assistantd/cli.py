"""The ``assistantd`` command: ``serve``, ``worker``, ``migrate`` and ``scripted-model``.

One process does everything by default (``serve``). To scale out on PostgreSQL (and Redis for
run events), run any number of ``serve --no-worker`` (HTTP only) and ``worker`` (runs,
indexing, code sessions; no HTTP) processes; see ``deploy/scale-out.md``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from assistantd.config import Settings
from assistantd.observability import logs
from assistantd.observability.logs import LogFormat
from assistantd.scripted_model import command as scripted_model_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logs.configure(_log_format())
    return args.handler(args)


def _log_format() -> LogFormat:
    try:
        return Settings().log_format
    except ValidationError:
        return "text"  # the command itself reports the invalid settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistantd", description=__doc__)
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="serve the Assistants API under /v1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
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

    worker = commands.add_parser(
        "worker",
        help="execute runs, index vector-store files and host code sessions, without HTTP "
        "(beside `serve --no-worker` processes on the same PostgreSQL database)",
    )
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="bring the database to the newest schema")
    migrate.set_defaults(handler=_migrate)

    scripted = commands.add_parser(
        "scripted-model",
        help="serve the deterministic scripted model (an OpenAI-compatible stand-in for an LLM)",
    )
    scripted_model_command.add_arguments(scripted)
    scripted.set_defaults(handler=_scripted_model)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from assistantd.app import create_app
    from assistantd.http_deadlines import uvicorn_options

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # What exists once the app has started (modules, the app, the engine's workers)
            # lives as long as the process: out of the garbage collector's sight, its full
            # passes (which stall every stream while they walk all tracked objects) are shorter.
            gc.collect()
            gc.freeze()

    settings = Settings()
    if args.no_worker and not settings.resolved_database_url.startswith("postgresql"):
        print(
            "assistantd: serve --no-worker leaves runs to worker processes, which need a "
            "shared PostgreSQL database: set ASSISTANTD_DATABASE_URL=postgresql+asyncpg://…",
            file=sys.stderr,
        )
        return 2
    if args.with_scripted_model:
        settings.llm_base_url = f"http://{args.host}:{args.port}/scripted/v1"
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
        **uvicorn_options(settings),
    )
    Server(config).run()
    return 0


def _worker(_args: argparse.Namespace) -> int:
    from assistantd.worker import run_worker

    settings = Settings()
    if not settings.resolved_database_url.startswith("postgresql"):
        print(
            "assistantd: a worker takes runs from a shared PostgreSQL database: set "
            "ASSISTANTD_DATABASE_URL=postgresql+asyncpg://… (one `assistantd serve` does "
            "everything on the embedded SQLite default)",
            file=sys.stderr,
        )
        return 2
    asyncio.run(run_worker(settings))
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from assistantd.store.database import Database

    async def run() -> None:
        settings = Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url, settings.database_pool_size)
        await db.migrate()
        await db.dispose()

    asyncio.run(run())
    return 0


def _scripted_model(args: argparse.Namespace) -> int:
    scripted_model_command.run_from_arguments(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
