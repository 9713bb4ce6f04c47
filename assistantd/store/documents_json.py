"""Documents as the databases store them: JSON text that both SQLite and PostgreSQL can hold.

One encoder for every write, the ORM's and the hand-written statements' alike, on both
databases:

- strict: a string that is not Unicode text (a lone UTF-16 surrogate) fails the write, inside
  its transaction. SQLAlchemy's default, ``json.dumps``, escaped it as ASCII, so SQLite stored
  it, the transaction committed, and only the answer failed (a 500 for a request that had
  changed something), then every read of the tenant's list failed on it;
- NUL is replaced by U+FFFD: PostgreSQL's JSONB cannot hold ``\\u0000``, and text the server
  does not control (the model's answer, a tool's output) may contain it; a run must not fail
  for a character. Client input never gets here with NUL: ``api/storable_text`` refuses it.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# ``\u0000`` as orjson escapes NUL, not preceded by an escaped backslash (``\\u0000`` is the
# text "\u0000", which stays): an even run of backslashes before it is kept as it is.
_ESCAPED_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def encode(value: Any) -> str:
    """``value`` as JSON text; raises ``TypeError`` for strings that are not Unicode text."""
    encoded = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    if b"\\u0000" in encoded:
        encoded = _ESCAPED_NUL.sub(rb"\1\\ufffd", encoded)
    return encoded.decode()
