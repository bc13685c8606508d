"""Files from outside kept sealed at rest: a bank's statement, the fund centre's loan list.

Those files hold personal data in full (payers' card numbers, borrowers' ID numbers): the warehouse
keeps only masks and keyed hashes, but the file itself is evidence finance may need again (a disputed
line, a file quarantined until a layout is added). So the hub keeps it, sealed: once read, a file is
replaced by `NAME.sealed`, encrypted with AES-256-GCM under a key derived from the warehouse's PII key
(`PiiHasher.derive`), in chunks of 1 MiB so that a 300 MB statement never sits in memory whole.

Format: `ESTATEHUB-SEALED-1\\n`, a 12-byte random nonce prefix, then chunks of (4-byte big-endian
length, ciphertext). Chunk i is sealed with the nonce `prefix[:8] + i` and the associated data
`b"more"` or, for the last one, `b"last"`: a file cut short, chunks reordered, or a byte changed all
fail to open (`SealBroken`), as does another key.

    seal = FileSeal(warehouse.hasher)
    sealed = seal.seal(path)            # path is gone, sealed = path + ".sealed"
    with seal.opened(sealed) as plain:  # a private temporary copy, removed afterwards
        parse(plain)
"""

from __future__ import annotations

import os
import secrets
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from estatehub.pii import PiiHasher

SUFFIX = ".sealed"
MAGIC = b"ESTATEHUB-SEALED-1\n"
CHUNK = 1 << 20
_PURPOSE = "files-at-rest"
_TAG = 16
_LENGTH = struct.Struct(">I")


class SealBroken(ValueError):
    """A sealed file that does not open: cut short, changed, or sealed under another PII key."""


def is_sealed(path: Path) -> bool:
    return path.name.endswith(SUFFIX)


def sealed_path(path: Path) -> Path:
    return path if is_sealed(path) else path.with_name(path.name + SUFFIX)


def plain_name(path: Path) -> str:
    return path.name[: -len(SUFFIX)] if is_sealed(path) else path.name


class FileSeal:
    def __init__(self, hasher: PiiHasher) -> None:
        self._aead = AESGCM(hasher.derive(_PURPOSE))

    def seal(self, path: Path) -> Path:
        """Replace `path` by its sealed copy (written beside it, then renamed: never half a file)."""
        if is_sealed(path):
            return path
        target = sealed_path(path)
        partial = target.with_name(target.name + ".partial")
        prefix = secrets.token_bytes(12)
        try:
            with path.open("rb") as source, partial.open("wb") as out:
                out.write(MAGIC + prefix)
                for index, chunk, last in _chunks(source):
                    sealed = self._aead.encrypt(_nonce(prefix, index), chunk, b"last" if last else b"more")
                    out.write(_LENGTH.pack(len(sealed)) + sealed)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        path.unlink()
        return target

    def read_into(self, sealed: Path, out: BinaryIO) -> None:
        with sealed.open("rb") as source:
            if source.read(len(MAGIC)) != MAGIC:
                raise SealBroken(f"{sealed.name} is not a sealed file")
            prefix = source.read(12)
            index, last = 0, False
            while not last:
                head = source.read(_LENGTH.size)
                if len(head) < _LENGTH.size:
                    raise SealBroken(f"{sealed.name} is cut short")
                (length,) = _LENGTH.unpack(head)
                if length > CHUNK + _TAG:
                    raise SealBroken(f"{sealed.name} has a chunk longer than any this code writes")
                body = source.read(length)
                try:
                    out.write(self._aead.decrypt(_nonce(prefix, index), body, b"more"))
                except InvalidTag:
                    try:
                        out.write(self._aead.decrypt(_nonce(prefix, index), body, b"last"))
                    except InvalidTag:
                        raise SealBroken(
                            f"{sealed.name} does not open: changed, cut short, or sealed under another PII key"
                        ) from None
                    last = True
                index += 1
            if source.read(1):
                raise SealBroken(f"{sealed.name} has bytes after its last chunk")

    def read(self, sealed: Path) -> bytes:
        """The plain content (for small files; large ones: `opened`)."""
        from io import BytesIO

        buffer = BytesIO()
        self.read_into(sealed, buffer)
        return buffer.getvalue()

    @contextmanager
    def opened(self, path: Path) -> Iterator[Path]:
        """A plain copy of a sealed file under its own name, in a private folder removed on exit; a file
        not sealed is handed over as it is."""
        if not is_sealed(path):
            yield path
            return
        folder = Path(tempfile.mkdtemp(prefix="estatehub-open-"))  # mode 0700
        try:
            plain = folder / plain_name(path)
            with plain.open("wb") as out:
                self.read_into(path, out)
            yield plain
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix[:8] + index.to_bytes(4, "big")


def _chunks(source: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    index, current = 0, source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        yield index, current, not following
        if not following:
            return
        index, current = index + 1, following


def seal_folder(folder: Path, hasher: PiiHasher) -> int:
    """Seal every plain file in `folder` (what a connector downloaded and the hub has read); returns how
    many. A partial download (`*.part*`) is left alone."""
    if not folder.is_dir():
        return 0
    seal = FileSeal(hasher)
    sealed = 0
    for path in sorted(folder.iterdir()):
        if path.is_file() and not is_sealed(path) and ".part" not in path.name and not path.name.startswith("."):
            seal.seal(path)
            sealed += 1
    return sealed
