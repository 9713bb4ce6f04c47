"""Why a file could not be indexed; ``code`` is the ``last_error.code`` the store reports."""

from __future__ import annotations


class FileIndexingError(Exception):
    code = "server_error"


class UnsupportedFile(FileIndexingError):
    """The file's type is not one we can extract text from."""

    code = "unsupported_file"


class InvalidFile(FileIndexingError):
    """The file has a supported type but its content cannot be read (corrupt, empty, locked)."""

    code = "invalid_file"
