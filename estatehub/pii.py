"""The keyed hash of personal identifiers (PIPL): equal numbers give equal hashes under one key, and
nothing can be read back or guessed without the key.

Full ID numbers and phones never leave the connector that read them: the warehouse keeps this keyed
hash (HMAC-SHA256, for matching across systems) and a masked form (`connectors.identity`, for people
to read). The key is a secret: it lives in the `warehouse` Connection (extra `pii_key`).
"""

from __future__ import annotations

import hashlib
import hmac


class PiiHasher:
    """Keyed hash of identifiers: equal inputs give equal hashes under one key, nothing else can be read.

    The key is a secret: it lives in the `warehouse` Connection (extra `pii_key`).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the PII hash key must have at least 16 bytes")
        self._key = key

    def hash(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def fingerprint(self) -> str:
        """A short value that identifies the key without revealing it (stored to detect a changed key)."""
        return hmac.new(self._key, b"estatehub-key-fingerprint", hashlib.sha256).hexdigest()[:16]
