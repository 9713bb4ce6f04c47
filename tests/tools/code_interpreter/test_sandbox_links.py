"""Finding ``sandbox:/mnt/data/…`` links in the model's text."""

from __future__ import annotations

from assistantd.tools.code_interpreter.sandbox_links import sandbox_links


def test_markdown_and_bare_links_with_exact_spans() -> None:
    text = (
        "See [the table](sandbox:/mnt/data/out.csv), the chart sandbox:/mnt/data/c%20d.png. "
        "And sandbox:/mnt/data/sub/x.json!"
    )
    links = sandbox_links(text)
    assert [link.name for link in links] == ["out.csv", "c d.png", "sub/x.json"]
    for link in links:
        assert text[link.start : link.end] == link.text
    assert links[1].text == "sandbox:/mnt/data/c%20d.png"


def test_no_name_no_link() -> None:
    assert sandbox_links("sandbox:/mnt/data/ and sandbox:/etc/passwd") == []
