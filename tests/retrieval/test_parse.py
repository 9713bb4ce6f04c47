from __future__ import annotations

import io
import json
import zlib

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    NameObject,
)

from assistantd.retrieval import InvalidFile, UnsupportedFile, parse
from assistantd.retrieval.parse import file_kind
from assistantd.retrieval.parse_limits import ParseLimits


def make_pdf(text: str) -> bytes:
    """A one-page PDF whose content stream draws ``text`` in Helvetica."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_plain_text_and_markdown_are_kept_as_they_are() -> None:
    assert parse("héllo wörld\n".encode(), "notes.txt") == "héllo wörld\n"
    assert parse(b"# Title\n\n* item", "README.md") == "# Title\n\n* item"


def test_utf8_bom_and_utf16_text_decode() -> None:
    assert parse(b"\xef\xbb\xbfbom text", "a.txt") == "bom text"
    assert parse("utf sixteen".encode("utf-16"), "a.txt") == "utf sixteen"


def test_source_code_by_extension() -> None:
    for name in ("main.py", "app.js", "x.ts", "A.java", "m.c", "m.cpp", "g.go", "r.rs", "s.sh"):
        assert "answer = 42" in parse(b"answer = 42\n", name)


def test_html_drops_tags_scripts_and_styles() -> None:
    html = (
        b"<html><head><title>T</title><style>p{color:red}</style></head><body>"
        b"<h1>Shipping</h1><p>Orders ship in <b>two</b> days.</p>"
        b"<script>alert('x')</script></body></html>"
    )
    text = parse(html, "page.html")
    assert "Shipping" in text
    assert "Orders ship in" in text and "two" in text
    assert "alert" not in text and "color" not in text and "<" not in text


def test_json_is_pretty_printed() -> None:
    text = parse(json.dumps({"product": "lamp", "price": 12}).encode(), "data.json")
    assert json.loads(text) == {"product": "lamp", "price": 12}
    assert '"product": "lamp"' in text


def test_pdf_text_is_extracted() -> None:
    text = parse(make_pdf("The warranty lasts two years"), "manual.pdf")
    assert "The warranty lasts two years" in text


def test_docx_paragraphs_and_tables_are_extracted() -> None:
    data = make_docx(["Meeting notes", "Budget approved"], [["region", "sales"], ["EU", "12"]])
    text = parse(data, "notes.docx")
    assert "Meeting notes" in text and "Budget approved" in text
    assert "region\tsales" in text and "EU\t12" in text


def test_mime_type_decides_when_the_extension_is_unknown() -> None:
    assert parse(b"plain words", "upload", "text/plain; charset=utf-8") == "plain words"
    assert "warranty" in parse(make_pdf("warranty"), "blob.bin", "application/pdf")


def test_unsupported_types_raise_unsupported_file() -> None:
    for name, mime in (("photo.png", "image/png"), ("archive.zip", None), ("noext", None)):
        with pytest.raises(UnsupportedFile) as caught:
            parse(b"\x89PNG...", name, mime)
        assert caught.value.code == "unsupported_file"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.4 this is not really a pdf", "broken.pdf"),
        (b"PK\x03\x04 not a zip", "broken.docx"),
        (b"{not json", "broken.json"),
        (b"\xff\xfe\x00\x00\x00 binary \x00\x00", "binary.txt"),
        (b"\x80\x81\x82 not utf8", "latin.txt"),
        (b"   \n\t ", "empty.txt"),
    ],
)
def test_unreadable_content_raises_invalid_file(data: bytes, name: str) -> None:
    with pytest.raises(InvalidFile) as caught:
        parse(data, name)
    assert caught.value.code == "invalid_file"


def test_filenames_are_only_looked_at_for_their_suffix() -> None:
    assert file_kind("../../etc/passwd") is None
    assert file_kind("..\\..\\secret.TXT") == ".txt"
    assert parse(b"safe", "/etc/shadow.md") == "safe"


def test_docx_expanding_beyond_the_limit_is_invalid_before_it_is_inflated() -> None:
    data = make_docx(["word " * 40_000], [["a"]])
    assert "word" in parse(data, "big.docx")
    with pytest.raises(InvalidFile, match="expands to more than"):
        parse(data, "big.docx", limits=ParseLimits(max_expanded_bytes=100_000))


def test_docx_part_compressed_like_a_bomb_is_invalid() -> None:
    data = make_docx(["A" * (2 * 1024 * 1024)], [["a"]])
    assert len(data) < 100_000
    with pytest.raises(InvalidFile, match="compressed more than"):
        parse(data, "bomb.docx")


def test_html_and_json_beyond_the_limit_are_invalid() -> None:
    limits = ParseLimits(max_expanded_bytes=1000)
    with pytest.raises(InvalidFile, match="larger than"):
        parse(b"<p>" + b"x" * 2000 + b"</p>", "page.html", limits=limits)
    with pytest.raises(InvalidFile, match="larger than"):
        parse(json.dumps(["x" * 2000]).encode(), "data.json", limits=limits)


def test_pdf_whose_stream_inflates_past_pypdfs_cap_is_invalid() -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    squeeze = zlib.compressobj(9)
    zeros = b" " * (1024 * 1024)
    compressed = b"".join(squeeze.compress(zeros) for _ in range(100)) + squeeze.flush()
    stream = EncodedStreamObject()
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream._data = compressed  # already encoded: set_data would compress it again
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(InvalidFile):
        parse(out.getvalue(), "bomb.pdf")
