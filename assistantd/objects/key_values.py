"""API key values: made, stored and shown.

A key is stored as the SHA-256 of its value, never the value. A plain (unsalted, fast) hash is
enough here because keys are 192 random bits, not passwords: nothing guessable is behind the
hash, so salting or stretching would only slow every cache miss. The hash also lets a key be
found by an index lookup; comparing hashes, unlike comparing values, tells a timing attacker
nothing about any key, and where two hashes are compared in Python it is in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SERVICE_ACCOUNT_PREFIX = "sk-svcacct-"


def new_key() -> str:
    return SERVICE_ACCOUNT_PREFIX + secrets.token_urlsafe(24)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time equality: how long it takes says nothing about where they differ."""
    return hmac.compare_digest(a.encode(), b.encode())


def redacted(key: str) -> str:
    return f"{key[: len(SERVICE_ACCOUNT_PREFIX) + 2]}...{key[-4:]}"
