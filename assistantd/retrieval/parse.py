"""Turn an uploaded file's bytes into plain text for chunking.

The type is decided by the file name's extension (only its suffix is looked at: the name is never
used as a path), falling back to the MIME type. Anything else raises ``UnsupportedFile``; content
that does not decode as its type, or would expand beyond ``ParseLimits`` when parsed (see
``parse_limits``), raises ``InvalidFile``.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from assistantd.retrieval.errors import InvalidFile, UnsupportedFile
from assistantd.retrieval.parse_limits import (
    DEFAULT_LIMITS,
    ParseLimits,
    check_archive,
    check_tree_size,
)

if TYPE_CHECKING:
    from pypdf import PdfReader

Parser = Callable[[bytes, ParseLimits], str]

# Extensions read as UTF-8 text as they are (OpenAI's file_search list of text and code types).
TEXT_EXTENSIONS = frozenset(
    {
        ".txt", ".text", ".md", ".markdown", ".rst", ".csv", ".tsv", ".log", ".tex", ".xml",
        ".yaml", ".yml", ".toml", ".ini", ".cfg",
        ".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".c", ".h", ".cpp", ".cc",
        ".cxx", ".hpp", ".go", ".rs", ".rb", ".php", ".sh", ".bash", ".cs", ".kt", ".swift",
        ".scala", ".sql", ".css", ".lua", ".pl", ".r", ".m", ".dart",
    }
)  # fmt: skip
HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})

MIME_TO_EXTENSION = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/csv": ".csv",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/json": ".json",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/x-python": ".py",
    "text/x-script.python": ".py",
    "text/javascript": ".js",
    "application/javascript": ".js",
    "application/typescript": ".ts",
    "text/x-java": ".java",
    "text/x-c": ".c",
    "text/x-c++": ".cpp",
    "text/x-go": ".go",
    "text/x-rust": ".rs",
    "text/x-ruby": ".rb",
    "text/x-php": ".php",
    "application/x-sh": ".sh",
    "text/x-sh": ".sh",
    "text/x-csharp": ".cs",
}


def parse(
    data: bytes,
    filename: str,
    mime_type: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> str:
    """The plain text of a file; raises ``UnsupportedFile`` or ``InvalidFile``."""
    extension = file_kind(filename, mime_type)
    if extension is None:
        raise UnsupportedFile(f"Files of this type are not supported for retrieval: {filename!r}")
    text = _parser_for(extension)(data, limits)
    if not text.strip():
        raise InvalidFile(f"No text could be extracted from {filename!r}")
    return text


def file_kind(filename: str, mime_type: str | None = None) -> str | None:
    """The extension we parse the file as, or None if the type is unsupported."""
    # PurePosixPath only splits the string; a name like "../../etc/passwd" is never opened.
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if _is_supported(suffix):
        return suffix
    if mime_type:
        mapped = MIME_TO_EXTENSION.get(mime_type.split(";")[0].strip().lower())
        if mapped:
            return mapped
    return None


def _is_supported(extension: str) -> bool:
    return extension in TEXT_EXTENSIONS or extension in HTML_EXTENSIONS or extension in _SPECIAL


def _parser_for(extension: str) -> Parser:
    if extension in _SPECIAL:
        return _SPECIAL[extension]
    if extension in HTML_EXTENSIONS:
        return _parse_html
    return _parse_text


def _parse_text(data: bytes, limits: ParseLimits) -> str:
    # Decoding is linear in the file's size; there is nothing to expand.
    return _decode_text(data)


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192] and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        raise InvalidFile("The file looks binary, not text")
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidFile(f"The file is not valid UTF-8 text: {exc}") from exc


def _parse_html(data: bytes, limits: ParseLimits) -> str:
    from bs4 import BeautifulSoup

    check_tree_size(data, limits, "HTML")
    soup = BeautifulSoup(data, "lxml")
    for element in soup(["script", "style", "noscript", "template", "head"]):
        element.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _parse_json(data: bytes, limits: ParseLimits) -> str:
    check_tree_size(data, limits, "JSON")
    try:
        value = json.loads(_decode_text(data))
    except json.JSONDecodeError as exc:
        raise InvalidFile(f"The file is not valid JSON: {exc}") from exc
    # Re-indented so keys and values are separated words for the keyword index.
    return json.dumps(value, indent=2, ensure_ascii=False)


def _parse_pdf(data: bytes, limits: ParseLimits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise InvalidFile("The PDF is encrypted")
            pages = _pdf_pages(reader, limits)
    # PyPdfError includes LimitReachedError: pypdf itself caps each stream's inflation (a
    # FlateDecode bomb); _pdf_pages caps what all pages add up to.
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidFile(f"The PDF could not be read: {exc}") from exc
    return "\n\n".join(page.strip() for page in pages if page.strip())


def _pdf_pages(reader: PdfReader, limits: ParseLimits) -> list[str]:
    pages: list[str] = []
    size = 0
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        size += len(pages[-1])
        if size > limits.max_expanded_bytes:
            raise InvalidFile(f"The PDF holds more than {limits.max_expanded_bytes} bytes of text.")
    return pages


def _parse_docx(data: bytes, limits: ParseLimits) -> str:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    check_archive(data, limits, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, XMLSyntaxError, KeyError, ValueError) as exc:
        raise InvalidFile(f"The DOCX could not be read: {exc}") from exc
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(part for part in parts if part.strip())


_SPECIAL: dict[str, Parser] = {
    ".json": _parse_json,
    ".pdf": _parse_pdf,
    ".docx": _parse_docx,
}
