"""The committed contract is whole and still catches what it exists to catch."""

from __future__ import annotations

from tests.harness.contract import ContractLog, check_response, find_operation


def test_every_served_operation_is_in_the_contract() -> None:
    for method, path in [
        ("POST", "/v1/threads/thread_1/runs"),
        ("GET", "/v1/vector_stores/vs_1/files"),
        ("POST", "/v1/uploads/upload_1/parts"),
        ("GET", "/v1/models"),
    ]:
        operation = find_operation(method, path)
        assert operation is not None and operation.schema is not None, (method, path)


def test_a_response_off_the_contract_is_reported() -> None:
    log = ContractLog()
    assistant = {
        "id": "asst_1", "object": "assistant", "created_at": "yesterday", "name": None,
        "description": None, "model": "m", "instructions": None, "tools": [], "metadata": {},
        "extra_field": 1,
    }  # fmt: skip
    check_response(log, "GET", "/v1/assistants/asst_1", 200, assistant)
    assert log.checked == 1
    assert any("created_at" in v for v in log.violations), log.violations
    assert any("extra_field" in v for v in log.violations), log.violations


def test_errors_are_checked_against_the_error_shape() -> None:
    log = ContractLog()
    check_response(log, "GET", "/v1/assistants/asst_1", 404, {"detail": "Not Found"})
    assert log.violations
