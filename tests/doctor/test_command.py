"""``assistantd doctor`` as a user meets it: probing a configured route, its help, and the one
line it says (with a non-zero exit) when the endpoint cannot serve runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.doctor.conftest import Models, doctor, doctor_json, findings
from tests.harness.server import free_port


def test_it_probes_the_route_a_model_name_resolves_to(
    models: Models, model_url: str, tmp_path: Path
) -> None:
    upstream = models.speaking("vllm", context_window=4096)
    routes = {"chat": {"base_url": model_url, "model": upstream, "dialect": "vllm"}}
    report = doctor_json("chat", data_dir=tmp_path, ASSISTANTD_MODEL_ROUTES=json.dumps(routes))
    assert (report["route"], report["model"]) == ("chat", upstream)
    assert report["recommended"] == {"context_window": 4096}  # the dialect is set already
    assert report["route_entry"] == {
        "base_url": model_url,
        "model": upstream,
        "dialect": "vllm",
        "context_window": 4096,
    }

    default = doctor_json(
        models.speaking("llamacpp", context_window=2048),
        data_dir=tmp_path,
        ASSISTANTD_LLM_BASE_URL=model_url,
    )
    assert findings(default)["context window"] == ("ok", "2048 tokens (llama.cpp /props n_ctx)")
    assert findings(default)["usage"] == ("ok", "in the stream, even unasked")


def test_without_a_model_it_says_which_to_name(tmp_path: Path, model_url: str) -> None:
    routes = {"a": {"base_url": model_url}, "b": {"base_url": model_url}}
    done = doctor(data_dir=tmp_path, ASSISTANTD_MODEL_ROUTES=json.dumps(routes))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "assistantd: name the model to check: assistantd doctor MODEL (routes: a, b)"
    )
    unconfigured = doctor("gpt-4o", data_dir=tmp_path)
    assert unconfigured.returncode == 2 and "ASSISTANTD_LLM_BASE_URL" in unconfigured.stderr


def test_help_says_what_it_probes(tmp_path: Path) -> None:
    done = doctor("--help", data_dir=tmp_path)
    assert done.returncode == 0
    for said in ("--base-url", "--api-key", "--json", "context_window", "tool_calling"):
        assert said in done.stdout


def test_an_unreachable_endpoint_is_one_line_and_exit_1(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = doctor("--base-url", url, "--model", "m", data_dir=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"assistantd doctor: m at {url}: the connection to the model failed")


def test_a_web_page_is_not_an_endpoint(stub: str, tmp_path: Path) -> None:
    done = doctor("--base-url", f"{stub}/ui", "--model", "m", data_dir=tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "answered 200 with an HTML page: is this an OpenAI-compatible /v1 endpoint?" in line
    report = json.loads(
        doctor("--base-url", f"{stub}/ui", "--model", "m", "--json", data_dir=tmp_path).stdout
    )
    assert report["usable"] is False and "HTML page" in report["error"]


def test_a_refused_key_names_where_it_came_from(stub: str, tmp_path: Path) -> None:
    url = f"{stub}/locked/v1"
    done = doctor("--base-url", url, "--model", "m", "--api-key", "sk-wrong", data_dir=tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "refused the API key (401): Incorrect API key provided" in line
    assert "the key sent is the one in --api-key" in line
    configured = doctor("m", data_dir=tmp_path, ASSISTANTD_LLM_BASE_URL=url)
    assert configured.returncode == 1
    assert "no API key was sent: set ASSISTANTD_LLM_API_KEY" in configured.stderr
