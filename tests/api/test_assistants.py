"""Assistants through the official SDK: every operation, and every limit the spec sets."""

from __future__ import annotations

from typing import Any

import openai
import pytest

FUNCTION = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def test_create_retrieve_modify_delete(client: openai.OpenAI) -> None:
    created = client.beta.assistants.create(
        model="scripted",
        name="Helper",
        description="Answers questions",
        instructions="Be brief.",
        tools=[{"type": "code_interpreter"}, {"type": "file_search"}, FUNCTION],
        metadata={"team": "a"},
        temperature=0.5,
        top_p=0.9,
        response_format={"type": "json_object"},
    )
    assert created.id.startswith("asst_")
    assert created.object == "assistant"
    assert isinstance(created.created_at, int)
    assert [tool.type for tool in created.tools] == ["code_interpreter", "file_search", "function"]
    assert created.tools[2].function.name == "get_weather"
    assert created.response_format.type == "json_object"
    assert client.beta.assistants.retrieve(created.id) == created

    modified = client.beta.assistants.update(
        created.id, name=None, tools=[FUNCTION], metadata={"team": "b"}, temperature=1.5
    )
    assert modified.name is None
    assert [tool.type for tool in modified.tools] == ["function"]
    assert modified.metadata == {"team": "b"}
    assert modified.temperature == 1.5
    assert modified.instructions == "Be brief."  # untouched fields stay
    assert client.beta.assistants.retrieve(created.id) == modified

    deleted = client.beta.assistants.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "assistant.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.delete(created.id)


def test_defaults(client: openai.OpenAI) -> None:
    created = client.beta.assistants.create(model="scripted")
    assert created.tools == []
    assert created.metadata == {}
    assert (created.temperature, created.top_p) == (1.0, 1.0)
    assert created.response_format == "auto"
    assert created.name is None and created.instructions is None


def test_tool_resources_are_replaced_per_tool(client: openai.OpenAI) -> None:
    a, b, c = (client.files.create(file=(f"{n}.txt", b"x"), purpose="assistants").id for n in "abc")
    store_id = client.vector_stores.create(name="one").id
    created = client.beta.assistants.create(
        model="scripted",
        tool_resources={
            "code_interpreter": {"file_ids": [a]},
            "file_search": {"vector_store_ids": [store_id]},
        },
    )
    assert created.tool_resources.code_interpreter.file_ids == [a]
    modified = client.beta.assistants.update(
        created.id, tool_resources={"code_interpreter": {"file_ids": [b, c]}}
    )
    assert modified.tool_resources.code_interpreter.file_ids == [b, c]
    assert modified.tool_resources.file_search.vector_store_ids == [store_id]


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"temperature": 2.1}, "temperature"),
    ({"temperature": -0.1}, "temperature"),
    ({"top_p": 1.01}, "top_p"),
    ({"name": "n" * 257}, "name"),
    ({"description": "d" * 513}, "description"),
    ({"instructions": "i" * 256_001}, "instructions"),
    ({"tools": [{"type": "code_interpreter"}] * 129}, "tools"),
    ({"tools": [{"type": "browser"}]}, "tools[0].type"),
    ({"tools": [{"type": "function", "function": {"name": "has space"}}]}, "tools[0].function.name"),
    ({"tools": [{"type": "function"}]}, "tools[0].function"),
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ({"metadata": {"k" * 65: "v"}}, "metadata"),
    ({"metadata": {"k": "v" * 513}}, "metadata"),
    ({"response_format": {"type": "xml"}}, "response_format.type"),
    ({"tool_resources": {"code_interpreter": {"file_ids": ["f"] * 21}}}, "tool_resources.code_interpreter.file_ids"),
    ({"tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}}, "tool_resources.file_search.vector_store_ids"),
    ({"surprise": True}, "surprise"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "param"), INVALID, ids=[p for _, p in INVALID])
def test_invalid_create_is_400_naming_the_param(
    client: openai.OpenAI, fields: dict[str, Any], param: str
) -> None:
    before = _count(client)
    with pytest.raises(openai.BadRequestError) as raised:
        client.beta.assistants.create(model="scripted", extra_body=fields)
    error = raised.value.body
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert _count(client) == before  # nothing half-written


def test_limits_at_their_edge_are_accepted(client: openai.OpenAI) -> None:
    created = client.beta.assistants.create(
        model="scripted",
        name="n" * 256,
        description="d" * 512,
        temperature=2,
        top_p=0,
        tools=[{"type": "code_interpreter"}] * 128,
        metadata={f"{i:064d}": "v" * 512 for i in range(16)},
    )
    assert len(created.tools) == 128


def test_model_is_required(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.post("/assistants", body={"name": "x"}, cast_to=object)
    assert raised.value.body["param"] == "model"


def test_invalid_modify_changes_nothing(client: openai.OpenAI) -> None:
    created = client.beta.assistants.create(model="scripted", name="kept")
    with pytest.raises(openai.BadRequestError):
        client.beta.assistants.update(created.id, name="new", temperature=9)
    assert client.beta.assistants.retrieve(created.id).name == "kept"


def _count(client: openai.OpenAI) -> int:
    return sum(1 for _ in client.beta.assistants.list(limit=100))
