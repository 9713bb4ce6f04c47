"""Object IDs: a type prefix and a random, URL-safe body, as OpenAI's (``asst_…``, ``file-…``)."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_BODY_LENGTH = 24


def new_id(prefix: str) -> str:
    """A new ID such as ``asst_X1b…``; ``prefix`` includes its separator (``asst_``, ``file-``)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LENGTH))
