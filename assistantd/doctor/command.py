"""``assistantd doctor [MODEL]``: the route MODEL resolves to in the configuration ``serve``
reads, or ``--base-url URL --model NAME`` directly; prints the report (``--json``: as JSON).
Exit 0 when runs can use the route (with the recommended settings), 1 when they cannot."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from assistantd.config import Settings
from assistantd.doctor.diagnosis import Target, diagnose
from assistantd.doctor.table import render
from assistantd.llm.errors import NoBackendConfigured
from assistantd.llm.router import DEFAULT_KEY
from assistantd.startup import StartupError, load_settings

HELP = "check what a model endpoint supports and which route settings to use"
DESCRIPTION = (
    "Probe the model route MODEL resolves to (ASSISTANTD_MODEL_ROUTES, else "
    "ASSISTANTD_LLM_BASE_URL with ASSISTANTD_LLM_API_KEY, as `serve` reads them), or an "
    "endpoint given with --base-url and --model, with a few small real requests (at most 256 "
    "tokens each), and print what works there: streaming, usage, native tool calls and their "
    "shape, parallel calls, JSON schema, the context window, reasoning; and the route settings "
    "to use (dialect, context_window, tool_calling). Exit 0 when runs can use the route, 1 when "
    "they cannot (unreachable, not OpenAI-compatible, key refused, unknown model)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        nargs="?",
        metavar="MODEL",
        help="the model name clients use (a route's name, or a model of the default endpoint); "
        "may be left out when ASSISTANTD_MODEL_ROUTES has one route",
    )
    parser.add_argument(
        "--base-url", help="probe this OpenAI-compatible endpoint (…/v1) instead of the settings"
    )
    parser.add_argument("--api-key", help="the key to send to --base-url")
    parser.add_argument(
        "--model", dest="upstream", metavar="NAME", help="the model to ask for at --base-url"
    )
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds each probe may take (20)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    target = _target(args)
    # The engine's client says at INFO when it adapts to a refused field: the report says it.
    logging.getLogger("assistantd.llm").setLevel(logging.WARNING)
    report = asyncio.run(diagnose(target))
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif report.usable:
        print(render(report), end="")
    if not report.usable:
        print(
            f"assistantd doctor: {target.model} at {target.base_url}: {report.error}",
            file=sys.stderr,
        )
        return 1
    return 0


def _target(args: argparse.Namespace) -> Target:
    if args.base_url:
        model = args.upstream or args.model
        if not model:
            raise StartupError("doctor --base-url needs the model to ask for: --model NAME")
        key_setting = "--api-key" if args.api_key else None
        return Target(args.base_url, model, args.api_key, key_setting, None, None, args.timeout)
    return _configured(load_settings(), args.model, args.timeout)


def _configured(settings: Settings, name: str | None, timeout: float) -> Target:
    routes = settings.model_routes
    if name is None:
        if len(routes) != 1:
            listed = f" (routes: {', '.join(routes)})" if routes else ""
            raise StartupError(f"name the model to check: assistantd doctor MODEL{listed}")
        name = next(iter(routes))
    if (route := routes.get(name)) is not None:
        if route.api_key is not None:
            key, where = (
                route.api_key,
                f"the api_key of the route for {name!r} in ASSISTANTD_MODEL_ROUTES",
            )
        else:
            key, where = settings.llm_api_key, DEFAULT_KEY
        return Target(
            route.base_url, route.model or name, key, where if key else None, name, route, timeout
        )
    if settings.llm_base_url is None:
        raise StartupError(NoBackendConfigured(name).message)
    key = settings.llm_api_key
    return Target(
        settings.llm_base_url, name, key, DEFAULT_KEY if key else None, name, None, timeout
    )
