"""code_interpreter in runs, through the official SDK: files in, state across runs, charts and
files out, annotations, and the step deltas of a streamed run."""

from __future__ import annotations

import io
from typing import Any

import openai
import pytest

from tests.runs.conftest import Scripted
from tests.tools.code_interpreter.conftest import needs_sandbox
from tests.tools.code_interpreter.run_harness import (
    TOOL,
    new_assistant,
    new_model,
    run_code,
    script_code,
)

pytestmark = needs_sandbox

SALES_CSV = b"region,amount\nnorth,10\nsouth,20\neast,30\n"


@pytest.fixture(scope="session")
def scripted(scripted_model_url: str) -> Scripted:
    return Scripted(scripted_model_url)


def upload(client: openai.OpenAI, name: str, data: bytes) -> Any:
    return client.files.create(file=(name, io.BytesIO(data)), purpose="assistants")


def test_a_run_computes_from_files_and_the_next_run_reuses_its_variables(
    client: openai.OpenAI, scripted: Scripted
) -> None:
    sales = upload(client, "sales.csv", SALES_CSV)
    notes = upload(client, "notes.txt", b"bonus=5")
    assistant = new_assistant(client, new_model(), file_ids=[sales.id])
    thread = client.beta.threads.create(
        messages=[
            {
                "role": "user",
                "content": "Total sales plus the bonus?",
                "attachments": [{"file_id": notes.id, "tools": [TOOL]}],
            }
        ]
    )
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('/mnt/data/sales.csv')\n"
        "bonus = int(open('/mnt/data/notes.txt').read().split('=')[1])\n"
        "total = int(df['amount'].sum()) + bonus\n"
        "open('/mnt/data/notes.txt', 'a').write('!')\n"
        "print(total)"
    )
    first = run_code(client, scripted, assistant, thread.id, code, "The total is 65.")
    assert first.run.status == "completed"
    assert first.entry.type == "code_interpreter"
    assert first.entry.code_interpreter.input == code
    assert first.logs.strip() == "65"
    assert first.message.content[0].text.value == "The total is 65."
    # The model was told what the code printed.
    tool_messages = [
        m for m in scripted.requests(assistant.model)[-1]["messages"] if m["role"] == "tool"
    ]
    assert "65" in tool_messages[-1]["content"]

    # The same session: its variables, and its inputs as the code left them (not uploaded again).
    second = run_code(
        client,
        scripted,
        assistant,
        thread.id,
        "print(total * 2, open('/mnt/data/notes.txt').read())",
    )
    assert second.run.status == "completed"
    assert second.logs.strip() == "130 bonus=5!"


def test_a_chart_comes_back_as_an_image_output_and_message_image(
    client: openai.OpenAI, scripted: Scripted
) -> None:
    assistant = new_assistant(client, new_model())
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Plot it."}])
    code = (
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3], [4, 1, 9])\n"
        "plt.title('sales')\n"
        "plt.show()"
    )
    done = run_code(client, scripted, assistant, thread.id, code, "Here is the chart.")
    assert done.run.status == "completed"
    [image_id] = done.image_ids
    image = client.files.retrieve(image_id)
    assert image.purpose == "assistants_output" and image.filename.endswith(".png")
    assert client.files.content(image_id).read().startswith(b"\x89PNG\r\n\x1a\n")
    text, picture = done.message.content
    assert text.text.value == "Here is the chart."
    assert picture.type == "image_file" and picture.image_file.file_id == image_id


def test_a_generated_csv_comes_back_with_a_file_path_annotation(
    client: openai.OpenAI, scripted: Scripted
) -> None:
    assistant = new_assistant(client, new_model())
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Double it."}])
    code = "open('/mnt/data/doubled.csv', 'w').write('x,y\\n1,2\\n')\nprint('saved')"
    answer = "Download [doubled.csv](sandbox:/mnt/data/doubled.csv)."
    done = run_code(client, scripted, assistant, thread.id, code, answer)
    assert done.run.status == "completed"
    text = done.message.content[0].text
    assert text.value == answer
    [annotation] = text.annotations
    assert annotation.type == "file_path"
    assert annotation.text == "sandbox:/mnt/data/doubled.csv"
    assert answer[annotation.start_index : annotation.end_index] == annotation.text
    file_id = annotation.file_path.file_id
    listed = client.files.list(purpose="assistants_output").data
    assert file_id in [f.id for f in listed]
    assert client.files.retrieve(file_id).filename == "doubled.csv"
    assert client.files.content(file_id).read() == b"x,y\n1,2\n"
    # The model learned where the file is, to link it.
    tool_message = scripted.requests(assistant.model)[-1]["messages"][-1]
    assert "sandbox:/mnt/data/doubled.csv" in tool_message["content"]


def test_an_error_in_the_code_is_logged_and_the_run_completes(
    client: openai.OpenAI, scripted: Scripted
) -> None:
    assistant = new_assistant(client, new_model())
    thread = client.beta.threads.create()
    done = run_code(client, scripted, assistant, thread.id, "1 / 0", "That failed.")
    assert done.run.status == "completed"
    assert "ZeroDivisionError" in done.logs


def test_the_model_sees_the_tool_as_a_function_taking_code(
    client: openai.OpenAI, scripted: Scripted
) -> None:
    assistant = new_assistant(client, new_model())
    scripted.script(assistant.model, {"text": "No code needed."})
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi"}]}
    )
    assert run.status == "completed"
    [tool] = scripted.requests(assistant.model)[-1]["tools"]
    assert tool["function"]["name"] == "code_interpreter"
    assert tool["function"]["parameters"]["required"] == ["code"]
    assert "/mnt/data" in tool["function"]["description"]


def test_streaming_sends_the_code_in_fragments_then_the_outputs(
    client: openai.OpenAI, scripted: Scripted
) -> None:
    assistant = new_assistant(client, new_model())
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Count."}])
    code = 'for i in range(3):\n    print("line", i)\nprint("é \\u263a")'
    script_code(scripted, assistant.model, code, "Counted.")
    deltas: list[dict[str, Any]] = []
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        for event in stream:
            if event.event == "thread.run.step.delta":
                deltas.append(event.data.delta.step_details.model_dump(exclude_none=True))
        final_run = stream.get_final_run()
        [step] = [s for s in stream.get_final_run_steps() if s.type == "tool_calls"]
    assert final_run.status == "completed"
    entries = [call for delta in deltas for call in delta["tool_calls"]]
    inputs = [e["code_interpreter"].get("input", "") for e in entries]
    assert "".join(inputs) == code
    assert len([piece for piece in inputs if piece]) > 1  # it streamed, not in one piece
    outputs = [o for e in entries for o in e["code_interpreter"].get("outputs", [])]
    assert outputs == [{"index": 0, "type": "logs", "logs": "line 0\nline 1\nline 2\né ☺\n"}]
    assert entries[-1]["code_interpreter"]["outputs"] == outputs  # outputs after the code
    # The SDK's accumulated step says what the stored one says.
    stored = client.beta.threads.runs.steps.retrieve(
        step.id, thread_id=thread.id, run_id=final_run.id
    )
    accumulated = step.step_details.tool_calls[0].code_interpreter
    kept = stored.step_details.tool_calls[0].code_interpreter
    assert accumulated.input == kept.input == code
    assert [o.logs for o in accumulated.outputs] == [o.logs for o in kept.outputs]
