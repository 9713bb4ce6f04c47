"""What ``assistantd doctor`` prints for the scripted model speaking different dialects: the
rows that differ, and the route settings it recommends."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.doctor.conftest import Models, doctor, doctor_json, findings


def _row(table: str, feature: str) -> str:
    """The table row of ``feature`` with its wrapped continuation lines, spaces collapsed."""
    lines = table.splitlines()
    start = next(
        i for i, line in enumerate(lines) if re.match(rf"\s+\S {re.escape(feature)}  ", line)
    )
    row = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 10):
            break
        row.append(line)
    return " ".join(" ".join(row).split())


def test_openai_and_ollama_dialects_print_what_differs(
    models: Models, model_url: str, tmp_path: Path
) -> None:
    openai_model = models.speaking("openai")
    ollama_model = models.speaking("ollama", context_window=8192)
    openai_run = doctor("--base-url", model_url, "--model", openai_model, data_dir=tmp_path)
    ollama_run = doctor("--base-url", model_url, "--model", ollama_model, data_dir=tmp_path)
    assert openai_run.returncode == 0 and ollama_run.returncode == 0, ollama_run.stderr
    openai_table, ollama_table = openai_run.stdout, ollama_run.stdout
    print(openai_table, ollama_table)

    assert _row(openai_table, "tool calls").startswith("✓ tool calls get_weather(")
    assert "ids, index, string arguments, tool_calls" in _row(openai_table, "tool calls")
    ollama_calls = _row(ollama_table, "tool calls")
    assert ollama_calls.startswith("~ tool calls") and "arguments whole" in ollama_calls
    assert "no index" in ollama_calls and "finish_reason 'stop' after calls" in ollama_calls

    assert _row(openai_table, "parallel tool calls").startswith("✓ parallel tool calls 2 calls")
    assert _row(openai_table, "usage") == _row(ollama_table, "usage")
    assert "only with stream_options" in _row(ollama_table, "usage")
    assert _row(openai_table, "context window").startswith("? context window unknown")
    assert _row(ollama_table, "context window") == (
        "✓ context window 8192 tokens (Ollama /api/show num_ctx)"
    )
    assert "Recommended route settings: none needed" in openai_table
    assert 'Recommended route settings: "dialect": "ollama", "context_window": 8192' in (
        ollama_table
    )
    route = re.search(r"ASSISTANTD_MODEL_ROUTES='(.*)'", ollama_table)
    assert route is not None
    assert json.loads(route.group(1)) == {
        ollama_model: {"base_url": model_url, "dialect": "ollama", "context_window": 8192}
    }


def test_vllm_reports_its_context_and_reasoning(
    models: Models, model_url: str, tmp_path: Path
) -> None:
    model = models.speaking("vllm", context_window=16384)
    report = doctor_json("--base-url", model_url, "--model", model, data_dir=tmp_path)
    found = findings(report)
    assert found["context window"] == ("ok", "16384 tokens (/v1/models max_model_len)")
    assert found["reasoning"][0] == "differs" and "reasoning_content" in found["reasoning"][1]
    assert "id repeated on every fragment" in found["tool calls"][1]
    assert report["backend"] == "vllm"
    assert report["recommended"] == {"dialect": "vllm", "context_window": 16384}
    assert report["usable"] is True and report["error"] is None


def test_a_model_without_tools_is_told_to_emulate_them(
    models: Models, model_url: str, tmp_path: Path
) -> None:
    model = models.speaking("ollama", supports_tools=False)
    done = doctor("--base-url", model_url, "--model", model, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _row(done.stdout, "tool calls").startswith("✗ tool calls refused:")
    assert f"library/{model}:latest does not support tools" in _row(done.stdout, "tool calls")
    assert _row(done.stdout, "parallel tool calls") == "✗ parallel tool calls no native tool calls"
    assert '"tool_calling": "emulated"' in done.stdout.split("Recommended route settings:")[1]
    assert "unknown: trained for 131072" in _row(done.stdout, "context window")


def test_refused_request_fields_are_reported_and_pinned_by_a_dialect(
    models: Models, model_url: str, tmp_path: Path
) -> None:
    tgi = doctor_json("--base-url", model_url, "--model", models.speaking("tgi"), data_dir=tmp_path)
    status, detail = findings(tgi)["usage"]
    assert status == "missing" and "stream_options refused" in detail
    assert "counts tokens" in detail
    assert "arguments as a JSON object" in findings(tgi)["tool calls"][1]
    assert tgi["recommended"] == {"dialect": "tgi"}

    model = models.speaking("openai-reasoning")
    reasoning = doctor_json("--base-url", model_url, "--model", model, data_dir=tmp_path)
    found = findings(reasoning)
    assert found["max_tokens"][0] == "differs" and "max_completion_tokens" in found["max_tokens"][1]
    assert (
        found["developer role"][0] == "differs" and "sends developer" in found["developer role"][1]
    )
    assert "parallel_tool_calls refused" in found["parallel tool calls"][1]
    assert reasoning["recommended"] == {"dialect": "openai-reasoning"}
