"""A ``multipart/form-data`` body read as it arrives: the one file field goes straight into a
staged blob (never whole into memory), with a size limit; the other fields are small strings.

FastAPI's ``UploadFile`` would spool the whole body to an unbounded temporary file first and
check the size only afterwards; this parser stops reading at the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from assistantd.errors import APIError, InvalidRequest, PayloadTooLarge
from assistantd.store.blobs import BlobStore, BlobTooLarge, StagedBlob

MAX_FIELD_BYTES = 64 * 1024
MAX_FILENAME_CHARS = 512
# Room for the boundaries, part headers and the small text fields around the file.
ENVELOPE_BYTES = 1024 * 1024


@dataclass
class StreamedForm:
    fields: dict[str, str] = field(default_factory=dict)
    blob: StagedBlob | None = None
    filename: str | None = None
    content_type: str | None = None

    def discard(self) -> None:
        if self.blob is not None:
            self.blob.discard()
            self.blob = None


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"File is too large: the maximum size is {max_bytes} bytes.", "file", "file_too_large"
    )


def clean_filename(raw: str, param: str = "file") -> str:
    """The client's filename as metadata only: no directories, no NUL, not empty."""
    if "\x00" in raw:
        raise InvalidRequest("The filename must not contain NUL characters.", param)
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        raise InvalidRequest("The file must have a filename.", param)
    if len(name) > MAX_FILENAME_CHARS:
        raise InvalidRequest(
            f"The filename can be at most {MAX_FILENAME_CHARS} characters long.", param
        )
    return name


class _Collector:
    """python-multipart callbacks that route each part to a field or the staged blob."""

    def __init__(
        self,
        blobs: BlobStore,
        file_field: str,
        max_file_bytes: int,
        too_large: Callable[[int], APIError],
    ) -> None:
        self.form = StreamedForm()
        self._too_large = too_large
        self._blobs = blobs
        self._file_field = file_field
        self._max_file_bytes = max_file_bytes
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._to_blob = False
        self._value = bytearray()
        self.complete = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_piece,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._to_blob = False
        self._value = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_piece(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name != self._file_field or b"filename" not in params:
            return
        if self.form.blob is not None:
            raise InvalidRequest(f"Only one '{self._file_field}' may be sent.", self._file_field)
        self.form.filename = params[b"filename"].decode("utf-8", "replace")
        content_type = self._headers.get(b"content-type")
        self.form.content_type = content_type.decode("latin-1") if content_type else None
        self.form.blob = self._blobs.stage(self._max_file_bytes)
        self._to_blob = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._to_blob and self.form.blob is not None:
            try:
                self.form.blob.write(data[start:end])
            except BlobTooLarge:
                raise self._too_large(self._max_file_bytes) from None
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FIELD_BYTES:
            raise InvalidRequest(f"The form field '{self._name}' is too long.", self._name)

    def _end(self) -> None:
        self.complete = True

    def _part_end(self) -> None:
        if not self._to_blob and self._name:
            self.form.fields[self._name] = self._value.decode("utf-8", "replace")


async def read_form(
    request: Request,
    blobs: BlobStore,
    file_field: str,
    max_file_bytes: int,
    on_too_large: Callable[[int], APIError] = too_large,
) -> StreamedForm:
    """Parse the body; on any error the staged blob is discarded and the error re-raised.
    ``on_too_large(max_file_bytes)`` is the error for a file past the limit (413 by default)."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidRequest("The request body must be multipart/form-data.", None)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_file_bytes + ENVELOPE_BYTES:
        raise on_too_large(max_file_bytes)
    collector = _Collector(blobs, file_field, max_file_bytes, on_too_large)
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if not collector.complete:
            raise MultipartParseError("the body ended before its closing boundary")
    except MultipartParseError as error:
        collector.form.discard()
        raise InvalidRequest(f"The multipart body could not be parsed: {error}", None) from None
    except BaseException:
        collector.form.discard()
        raise
    return collector.form
