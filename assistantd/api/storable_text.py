"""Text the databases cannot hold is refused where a request comes in, for every endpoint at once.

Two kinds of character: a lone UTF-16 surrogate (``"\\ud800"`` as a JSON escape) is no Unicode
text at all: it cannot be encoded as UTF-8, so it can be neither stored nor answered. NUL
(``\\u0000``) is refused by PostgreSQL in text and in JSONB; SQLite would keep it, but one rule
for both databases is easier to rely on than two, so NUL in client input is refused on both.
(NUL in text the model or a tool produces is replaced when stored, see ``store/documents_json``.)

Checked: the JSON body (keys and string values, at any depth), the query and the path
parameters. Multipart bodies (file uploads) are left alone: their bytes are files, not text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from assistantd.errors import InvalidRequest

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


async def refuse_unstorable_text(request: Request) -> None:
    """A dependency of every route: 400 naming the first parameter holding such a character."""
    for name, value in request.path_params.items():
        _check(value, str(name))
    for name, value in request.query_params.multi_items():
        _check(name, name)
        _check(value, name)
    if _has_json_body(request):
        body = await request.body()  # kept by the request: the route reads it again for free
        try:
            document = json.loads(body)
        except ValueError:
            return  # not JSON: the route's own parsing says so, in its words
        _check_document(document, "")


def _has_json_body(request: Request) -> bool:
    # As FastAPI reads a body: JSON when it says so, or when it names no type at all.
    if request.method not in ("POST", "PUT", "PATCH"):
        return False
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return not content_type or content_type == "application/json" or content_type.endswith("+json")


def _check_document(node: Any, where: str) -> None:
    if isinstance(node, str):
        _check(node, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _check_document(item, f"{where}[{index}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            _check(key, where or key)  # a bad key: the param is the object holding it
            _check_document(value, f"{where}.{key}" if where else key)


def _check(text: str, param: str) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    what = "NUL characters" if found.group() == "\x00" else "unpaired UTF-16 surrogates"
    raise InvalidRequest(f"Invalid value for '{param}': strings may not contain {what}.", param)
