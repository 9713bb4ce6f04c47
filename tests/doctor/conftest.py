"""``assistantd doctor`` run as a real process against the scripted model (in this process,
each test's model speaking a dialect) and against small endpoints that answer as a web page or
a refused key would."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistantd.scripted_model.testing import running_scripted_model
from tests.harness.wrong_endpoints import endpoints
from tests.lifecycle.commands import assistantd


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with running_scripted_model() as base_url:
        yield base_url


class Models:
    """Model names of the scripted model, each made to speak a dialect (and be sized, or lack
    tools) through ``POST /_script``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def speaking(self, dialect: str, **facts: Any) -> str:
        name = f"{dialect}-{uuid.uuid4().hex[:8]}"
        script = {"model": name, "responses": [], "dialect": dialect, **facts}
        root = self.base_url.removesuffix("/v1")
        httpx.post(f"{root}/_script", json=script, timeout=10).raise_for_status()
        return name


@pytest.fixture
def models(model_url: str) -> Models:
    return Models(model_url)


def doctor(*args: str, data_dir: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return assistantd("doctor", *args, data_dir=data_dir, timeout=120, **variables)


def doctor_json(*args: str, data_dir: Path, **variables: str) -> dict[str, Any]:
    done = doctor(*args, "--json", data_dir=data_dir, **variables)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def findings(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f["feature"]: (f["status"], f["detail"]) for f in report["findings"]}


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    with endpoints() as base:
        yield base
