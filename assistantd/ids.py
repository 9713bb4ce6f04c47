"""Object IDs: a type prefix and a random, URL-safe body, as OpenAI's (``asst_…``, ``file-…``)."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_BODY_LENGTH = 24
# Random bytes map to characters by ``byte % 62``; bytes from 248 (= 4 * 62) up are dropped so
# that every character stays equally likely. One ``token_bytes`` and one ``translate``, both in
# C: ``secrets.choice`` per character cost ~40 µs an ID (a run makes five on its way to its
# first token).
_LIMIT = len(_ALPHABET) * (256 // len(_ALPHABET))
_TABLE = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) if b < _LIMIT else 0 for b in range(256))
_DROPPED = bytes(range(_LIMIT, 256))


def new_id(prefix: str) -> str:
    """A new ID such as ``asst_X1b…``; ``prefix`` includes its separator (``asst_``, ``file-``)."""
    body = b""
    while len(body) < _BODY_LENGTH:
        body += secrets.token_bytes(_BODY_LENGTH + 8).translate(_TABLE, _DROPPED)
    return prefix + body[:_BODY_LENGTH].decode()
