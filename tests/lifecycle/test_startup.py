"""First contact with the ``assistantd`` command, in real processes: ``--version``, ``--help`` of
every command, ``migrate --check``, the start-up summary line, and the mistakes people make first
(a driverless or unsupported database URL, an unreachable database, bad ASSISTANTD_MODEL_ROUTES,
a misspelled variable), each said in a line or two with a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from assistantd import cli
from tests.harness.cluster import start_process
from tests.harness.databases import fresh_database, unavailable_reason
from tests.harness.server import free_port
from tests.lifecycle.commands import REPO, assistantd, environment

COMMANDS = ("serve", "worker", "migrate", "scripted-model")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def _refused(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The stderr of a start-up that failed as it should: exit 2, a line or two, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    stderr = result.stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, stderr
    for text in expected:
        assert text in stderr, stderr
    return stderr


def test_version_is_the_packages(data_dir: Path) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    result = assistantd("--version", data_dir=data_dir)
    assert result.returncode == 0
    assert result.stdout.strip() == f"assistantd {version}"


def test_help_describes_every_command(data_dir: Path) -> None:
    result = assistantd("--help", data_dir=data_dir)
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    for command in COMMANDS:
        shown = assistantd(command, "--help", data_dir=data_dir)
        assert shown.returncode == 0, shown.stderr
        assert f"usage: assistantd {command}" in shown.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_and_option_has_a_description(command: str) -> None:
    parser = cli._parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {choice.dest for choice in commands._choices_actions} >= set(COMMANDS)
    assert all(choice.help for choice in commands._choices_actions)
    subparser = commands.choices[command]
    assert subparser.description
    undescribed = [a.dest for a in subparser._actions if not a.help]
    assert undescribed == []


def test_migrate_check_says_what_is_pending_until_migrated(data_dir: Path) -> None:
    pending = assistantd("migrate", "--check", data_dir=data_dir)
    assert pending.returncode == 1, pending.stderr
    assert "lacks" in pending.stdout and "0001 (Assistants" in pending.stdout
    assert assistantd("migrate", data_dir=data_dir).returncode == 0
    current = assistantd("migrate", "--check", data_dir=data_dir)
    assert current.returncode == 0, current.stdout + current.stderr
    assert "is at the newest schema" in current.stdout


def test_a_plain_postgresql_url_is_taken_to_mean_asyncpg(data_dir: Path) -> None:
    if reason := unavailable_reason("postgresql"):
        pytest.skip(reason)
    with fresh_database("postgresql", data_dir) as url:
        plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        result = assistantd("migrate", data_dir=data_dir, ASSISTANTD_DATABASE_URL=plain)
        assert result.returncode == 0, result.stderr
        assert "postgresql+asyncpg://" in result.stdout and "applied 0001" in result.stdout


def test_a_database_driver_assistantd_lacks_is_refused_naming_the_one_to_use(
    data_dir: Path,
) -> None:
    url = "postgresql+psycopg2://postgres@127.0.0.1/assistantd"
    result = assistantd("serve", data_dir=data_dir, ASSISTANTD_DATABASE_URL=url)
    _refused(result, "ASSISTANTD_DATABASE_URL", "'postgresql+psycopg2'", "postgresql+asyncpg://")


def test_an_unreachable_database_is_said_with_host_port_and_error(data_dir: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://postgres:secret@127.0.0.1:{port}/assistantd"
    result = assistantd("serve", data_dir=data_dir, ASSISTANTD_DATABASE_URL=url)
    stderr = _refused(result, f"127.0.0.1:{port}", "ConnectionRefusedError")
    assert "secret" not in stderr


def test_model_routes_that_are_not_json_say_the_variable_and_position(data_dir: Path) -> None:
    routes = '{"gpt": {"base_url": "http://x/v1",}}'
    result = assistantd("serve", data_dir=data_dir, ASSISTANTD_MODEL_ROUTES=routes)
    _refused(result, "ASSISTANTD_MODEL_ROUTES is not valid JSON", "line 1 column 36")


@pytest.mark.parametrize(
    ("route", "said"),
    [
        ({"api_key": "sk"}, "the route for 'gpt' has no 'base_url'"),
        (
            {"base_url": "http://x/v1", "apikey": "sk"},
            "the route for 'gpt' has an unknown key 'apikey'",
        ),
    ],
    ids=["no-base-url", "unknown-key"],
)
def test_a_bad_route_is_named_with_what_is_wrong(
    data_dir: Path, route: dict[str, str], said: str
) -> None:
    routes = json.dumps({"gpt": route})
    result = assistantd("serve", data_dir=data_dir, ASSISTANTD_MODEL_ROUTES=routes)
    _refused(result, "ASSISTANTD_MODEL_ROUTES", said)


def test_a_misspelled_variable_is_warned_of_with_the_closest_name(data_dir: Path) -> None:
    result = assistantd(
        "migrate", "--check", data_dir=data_dir, ASSISTANTD_DATABSE_URL="sqlite+aiosqlite:///x"
    )
    assert "ASSISTANTD_DATABSE_URL" in result.stderr
    assert "did you mean ASSISTANTD_DATABASE_URL?" in result.stderr


def _started_log(data_dir: Path, env: dict[str, str]) -> str:
    server = start_process("serve", data_dir, environment(data_dir, **env))
    server.stop()
    return "".join(server.log)


def test_start_up_says_what_it_runs_with_in_one_line_and_no_alembic_chatter(
    data_dir: Path,
) -> None:
    log = _started_log(data_dir, {})
    summaries = [line for line in log.splitlines() if "assistantd serve; data dir" in line]
    assert len(summaries) == 1, log
    summary = summaries[0]
    assert f"data dir {data_dir.resolve()}" in summary
    assert "database sqlite+aiosqlite:///" in summary
    assert (
        "no model configured — runs will fail until ASSISTANTD_LLM_BASE_URL or "
        "ASSISTANTD_MODEL_ROUTES is set" in summary
    )
    assert "single-tenant" in summary and "roles API, runs, indexing, code sessions" in summary
    assert "events in-process" in summary and "blobs data dir" in summary
    assert "Context impl" not in log and "transactional DDL" not in log


def test_the_summary_masks_the_database_password(data_dir: Path) -> None:
    if reason := unavailable_reason("postgresql"):
        pytest.skip(reason)
    with fresh_database("postgresql", data_dir) as url:
        # Trust authentication: the password is never asked for, only shown.
        with_password = url.replace("postgres@", "postgres:hunter2@", 1)
        env = {
            "ASSISTANTD_DATABASE_URL": with_password,
            "ASSISTANTD_LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "ASSISTANTD_API_KEYS": "sk-a,sk-b",
        }
        log = _started_log(data_dir, env)
    summary = next(line for line in log.splitlines() if "assistantd serve; data dir" in line)
    assert "postgres:***@127.0.0.1" in summary and "hunter2" not in log
    assert "model http://127.0.0.1:9/v1" in summary and "multi-tenant (2 API keys)" in summary
