"""The keyed hash of personal identifiers (PIPL): equal numbers give equal hashes under one key, and
nothing can be read back or guessed without the key.

Full ID numbers and phones never leave the connector that read them: the warehouse keeps this keyed
hash (HMAC-SHA256, for matching across systems) and a masked form (`connectors.identity`, for people
to read). The key is a secret: it lives in the `warehouse` Connection (extra `pii_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import Counter

MIN_KEY_LENGTH = 32
MIN_KEY_DISTINCT = 10  # characters: a key of a few repeated characters is guessable whatever its length
MIN_KEY_ENTROPY_BITS = 3.0  # per character, by the key's own character frequencies
GENERATE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class WeakPiiKey(ValueError):
    """A PII hash key too short or too regular to keep the hashes from being guessed."""


def check_key(key: bytes) -> None:
    """Refuse a key shorter than 32 characters, or one of few distinct or repeated characters (the
    message says what to do, never what the key is)."""
    counts = Counter(key)
    entropy = abs(-sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())) if key else 0.0
    if len(key) < MIN_KEY_LENGTH or len(counts) < MIN_KEY_DISTINCT or entropy < MIN_KEY_ENTROPY_BITS:
        raise WeakPiiKey(
            f"expected a PII key of at least {MIN_KEY_LENGTH} random characters, got {len(key)} characters of which "
            f"{len(counts)} distinct ({entropy:.1f} bits each): generate one with {GENERATE_KEY} and set it as "
            "the extra 'pii_key' of the 'warehouse' Connection (a warehouse built with another key needs that key)"
        )


class PiiHasher:
    """Keyed hash of identifiers: equal inputs give equal hashes under one key, nothing else can be read.

    The key is a secret: it lives in the `warehouse` Connection (extra `pii_key`).
    """

    def __init__(self, key: bytes) -> None:
        check_key(key)
        self._key = key
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)  # keyed once; each hash copies it

    def hash(self, kind: str, value: str) -> str:
        mac = self._keyed.copy()
        mac.update(f"{kind}:{value}".encode())
        return mac.hexdigest()

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (e.g. sealing files at rest), derived from this key and not it."""
        return hmac.new(self._key, f"estatehub-derived:{purpose}".encode(), hashlib.sha256).digest()

    def fingerprint(self) -> str:
        """A short value that identifies the key without revealing it (stored to detect a changed key)."""
        return hmac.new(self._key, b"estatehub-key-fingerprint", hashlib.sha256).hexdigest()[:16]
