"""`python -m assistantd.scripted_model` serves with the CLI flags applied."""

from __future__ import annotations

import httpx

from assistantd.scripted_model.testing import running_scripted_model_process


def test_module_command_serves() -> None:
    with running_scripted_model_process("--models", "m1,m2", "--reply-words", "5") as base_url:
        models = httpx.get(f"{base_url}/models").json()
        reply = httpx.post(
            f"{base_url}/chat/completions",
            json={"model": "m1", "messages": [{"role": "user", "content": "hi"}]},
        ).json()
    assert [m["id"] for m in models["data"]] == ["m1", "m2"]
    assert len(reply["choices"][0]["message"]["content"].split()) == 5
