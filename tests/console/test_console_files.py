"""Files and vector stores from the console: upload a file, index it in a store, and see a
file_search answer cite it with a link to the file."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import create_assistant, send, wait_for_status
from tests.runs.conftest import Scripted

REFUNDS = b"Refund policy. Customers receive a refund within 14 days of returning the item."


def upload_and_index(page: Any, store_name: str) -> tuple[str, str]:
    """Upload a refunds file, add it to a new store, wait until it is indexed: (file id, store id)."""
    page.get_by_role("link", name="Files & vector stores").click()
    filename = f"refunds-{store_name}.txt"  # the server is shared by the module's tests
    upload = {"name": filename, "mimeType": "text/plain", "buffer": REFUNDS}
    page.get_by_test_id("file-upload").set_input_files(upload)
    row = page.get_by_test_id("file-row").filter(has_text=filename)
    file_id = row.locator("td").nth(1).inner_text()
    page.get_by_test_id("store-name").fill(store_name)
    page.get_by_test_id("store-create").click()
    heading = page.locator("h3", has_text=store_name)
    store = page.get_by_test_id("vector-store").filter(has=heading)
    store.get_by_test_id("store-add-file").select_option(file_id)
    store.get_by_test_id("store-add").click()
    store.get_by_test_id("store-file-status").filter(has_text="completed").wait_for(timeout=10000)
    return file_id, str(store.get_attribute("data-id"))


def test_upload_index_and_search_a_store(page: Any) -> None:
    _, store_id = upload_and_index(page, "searched")
    store = page.locator(f"[data-testid=vector-store][data-id={store_id}]")
    store.get_by_test_id("store-search-input").fill("how long for a refund")
    store.get_by_test_id("store-search").click()
    assert "within 14 days" in store.get_by_test_id("search-result").first.inner_text()


def test_a_file_search_answer_links_its_citation_to_the_file(page: Any, scripted: Scripted) -> None:
    file_id, store_id = upload_and_index(page, "cited")
    page.get_by_role("link", name="Playground").click()
    model = create_assistant(page, vector_store_id=store_id)
    scripted.script(
        model,
        {"tool_calls": [{"name": "file_search", "arguments": {"queries": ["refund days"]}}]},
        {"text": "Refunds arrive within 14 days 【0:0†refunds-cited.txt】."},
    )
    send(page, "How long do refunds take?")
    wait_for_status(page, "completed")
    answer = page.get_by_test_id("chat-message").last
    citation = answer.get_by_test_id("citation")
    assert "Refunds arrive within 14 days" in answer.inner_text()
    assert "†" not in answer.inner_text()  # the model's marker becomes a numbered link
    assert citation.inner_text() == "[1]"
    assert file_id in str(citation.get_attribute("href"))
    citation.click()
    highlighted = page.locator("[data-testid=file-row].highlight")
    assert file_id in highlighted.inner_text()
