"""The command line: ``python -m assistantd.scripted_model --port 8001``."""

from __future__ import annotations

import argparse

from assistantd.scripted_model.dialects import DIALECTS
from assistantd.scripted_model.server import run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags, for a parent CLI's ``scripted-model`` subcommand too."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (8001)")
    parser.add_argument(
        "--token-delay-ms",
        type=float,
        default=0,
        help="pause between streamed chunks of default replies",
    )
    parser.add_argument(
        "--reply-words", type=int, default=0, help="pad default replies to this many words"
    )
    parser.add_argument(
        "--context-window",
        type=int,
        default=None,
        help="reject prompts longer than this many tokens (context_length_exceeded)",
    )
    parser.add_argument(
        "--dialect",
        choices=sorted(DIALECTS),
        default="openai",
        help="the backend whose stream, errors and refusals to imitate (per model: /_script)",
    )
    parser.add_argument(
        "--models", default="scripted", help="comma-separated model ids that GET /v1/models lists"
    )


def run_from_arguments(args: argparse.Namespace) -> None:
    run(
        host=args.host,
        port=args.port,
        token_delay_ms=args.token_delay_ms,
        reply_words=args.reply_words,
        context_window=args.context_window,
        models=tuple(m.strip() for m in args.models.split(",") if m.strip()),
        dialect=args.dialect,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="assistantd scripted-model",
        description="A deterministic, scriptable OpenAI-compatible model server.",
    )
    add_arguments(parser)
    run_from_arguments(parser.parse_args(argv))
