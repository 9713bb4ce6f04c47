"""``/v1/models`` lists what the configured model endpoint serves."""

from __future__ import annotations

import openai
import pytest


def test_list_and_retrieve(client: openai.OpenAI) -> None:
    listed = client.models.list()
    assert "scripted" in [model.id for model in listed.data]
    model = client.models.retrieve("scripted")
    assert (model.id, model.object) == ("scripted", "model")


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve("no-such-model")
    assert raised.value.body["code"] == "model_not_found"
