"""Text the model produces with NUL in it (which PostgreSQL cannot store) does not fail the run:
the stored message holds U+FFFD in its place, on both databases."""

from __future__ import annotations

from typing import Any

import openai

from tests.runs.conftest import Scripted


def test_nul_in_the_models_answer_is_stored_replaced(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"text": "zero\x00byte"})
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.content[0].text.value == "zero\ufffdbyte"
