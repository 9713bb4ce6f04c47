"""Hand-written statements: ``:name`` parameters as asyncpg numbers them."""

from __future__ import annotations

from assistantd.store.driver_sql import numbered_parameters


def test_names_become_numbers_in_order_of_first_use() -> None:
    sql = "SELECT a FROM t WHERE id = :id AND tenant = :tenant OR parent = :id"
    assert numbered_parameters(sql) == (
        "SELECT a FROM t WHERE id = $1 AND tenant = $2 OR parent = $1",
        ("id", "tenant"),
    )


def test_casts_and_times_are_not_parameters() -> None:
    sql = "SELECT data::text, '12:30' FROM t WHERE id = :id"
    assert numbered_parameters(sql) == ("SELECT data::text, '12:30' FROM t WHERE id = $1", ("id",))
