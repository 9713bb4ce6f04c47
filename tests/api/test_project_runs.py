"""``GET /v1/runs`` (beyond OpenAI's API): the project's runs across all its threads, newest
first, paged as every list; another project's runs are never listed nor taken as cursors."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import make_settings
from tests.harness.databases import fresh_database
from tests.harness.server import running_server

KEYS = ("sk-runs-one", "sk-runs-two")


@pytest.fixture(scope="module")
def keyed_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp(f"project-runs-{backend}")
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, api_keys=",".join(KEYS))) as base,
    ):
        yield base


def keyed(base: str, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base}/v1",
        headers={"Authorization": f"Bearer {key}", "OpenAI-Beta": "assistants=v2"},
        timeout=30,
    )


def new_run(http: httpx.Client, assistant_id: str) -> dict[str, str]:
    response = http.post(
        "/threads/runs",
        json={"assistant_id": assistant_id, "thread": {"messages": [{"role": "user", "content": "hi"}]}},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def test_the_projects_runs_across_threads_newest_first(keyed_server: str) -> None:
    with keyed(keyed_server, KEYS[0]) as one, keyed(keyed_server, KEYS[1]) as two:
        mine = one.post("/assistants", json={"model": "scripted"}).json()["id"]
        theirs = two.post("/assistants", json={"model": "scripted"}).json()["id"]
        runs = [new_run(one, mine) for _ in range(3)]
        foreign = new_run(two, theirs)

        listed = one.get("/runs").json()
        assert listed["object"] == "list"
        assert [r["id"] for r in listed["data"]] == [r["id"] for r in reversed(runs)]
        assert len({r["thread_id"] for r in listed["data"]}) == 3
        assert all(r["object"] == "thread.run" and r["status"] for r in listed["data"])
        assert foreign["id"] not in [r["id"] for r in listed["data"]]

        page = one.get("/runs", params={"limit": 2}).json()
        assert [r["id"] for r in page["data"]] == [runs[2]["id"], runs[1]["id"]]
        assert page["has_more"] is True and page["last_id"] == runs[1]["id"]
        rest = one.get("/runs", params={"limit": 2, "after": page["last_id"]}).json()
        assert [r["id"] for r in rest["data"]] == [runs[0]["id"]] and rest["has_more"] is False

        assert one.get("/runs", params={"after": foreign["id"]}).status_code == 400
        assert [r["id"] for r in two.get("/runs").json()["data"]] == [foreign["id"]]
        assert httpx.get(f"{keyed_server}/v1/runs").status_code == 401
