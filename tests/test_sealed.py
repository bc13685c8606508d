"""Files from outside sealed at rest: nothing readable on disk, everything back with the key, and a file
changed, cut short, reordered or opened with another key refused."""

from __future__ import annotations

import os
import struct

import pytest

from estatehub.pii import PiiHasher
from estatehub.sealed import CHUNK, MAGIC, FileSeal, SealBroken, is_sealed

KEY = b"q7Vt2mX9pLc4Rz8wKd1Hs6Jf3Ng5Ab0Ye"
OTHER_KEY = b"Zr4Pk8Wm2Qx6Tc1Vn9Bj5Ld3Hs7Gf0Ua"
CARD = b"6217001234567890123"


def _statement(tmp_path, size: int):
    path = tmp_path / "ICBC_4000021209200123456_20250109.csv"
    body = (b"2025-01-09," + CARD + b",\xd5\xc5\xc8\xfd,100000.00\n") * (size // 40 + 1)
    path.write_bytes(body[:size])
    return path, body[:size]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_a_sealed_file_holds_nothing_readable_and_opens_to_the_same_bytes(tmp_path, size):
    path, body = _statement(tmp_path, size)
    seal = FileSeal(PiiHasher(KEY))
    sealed = seal.seal(path)
    assert is_sealed(sealed) and not path.exists()
    assert sealed.name == path.name + ".sealed"
    raw = sealed.read_bytes()
    assert raw.startswith(MAGIC)
    assert CARD not in raw and CARD.decode() not in raw.decode("latin-1")
    assert seal.read(sealed) == body
    with seal.opened(sealed) as plain:
        assert plain.name == path.name and plain.read_bytes() == body
        folder = plain.parent
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert not folder.exists(), "the plain copy is removed afterwards"
    assert seal.seal(sealed) == sealed, "sealing twice is a no-op"


def test_each_seal_is_different_even_for_the_same_content(tmp_path):
    seal = FileSeal(PiiHasher(KEY))
    first, body = _statement(tmp_path, 5000)
    a = seal.seal(first).read_bytes()
    first.write_bytes(body)
    (tmp_path / (first.name + ".sealed")).unlink()
    b = seal.seal(first).read_bytes()
    assert a != b, "a fresh nonce per file"


def _sealed(tmp_path, size=2 * CHUNK + 100):
    path, body = _statement(tmp_path, size)
    return FileSeal(PiiHasher(KEY)).seal(path), body


def _rewrite(path, change):
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(change(raw)))


def _chunk_bounds(raw: bytes):
    at, bounds = len(MAGIC) + 12, []
    while at < len(raw):
        (length,) = struct.unpack(">I", raw[at : at + 4])
        bounds.append((at, at + 4 + length))
        at += 4 + length
    return bounds


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: raw[:-1], id="last byte cut"),
        pytest.param(lambda raw: raw[: _chunk_bounds(raw)[-1][0]], id="last chunk cut whole"),
        pytest.param(lambda raw: raw[:100] + bytes([raw[100] ^ 1]) + raw[101:], id="one bit flipped"),
        pytest.param(
            lambda raw: (
                raw[: _chunk_bounds(raw)[0][0]]
                + raw[_chunk_bounds(raw)[1][0] : _chunk_bounds(raw)[1][1]]
                + raw[_chunk_bounds(raw)[0][0] : _chunk_bounds(raw)[0][1]]
                + raw[_chunk_bounds(raw)[2][0] :]
            ),
            id="chunks swapped",
        ),
        pytest.param(lambda raw: raw + b"x", id="bytes appended"),
        pytest.param(lambda raw: b"NOT-SEALED" + raw[10:], id="not a sealed file"),
    ],
)
def test_a_damaged_sealed_file_is_refused(tmp_path, damage):
    sealed, _ = _sealed(tmp_path)
    _rewrite(sealed, damage)
    with pytest.raises(SealBroken):
        FileSeal(PiiHasher(KEY)).read(sealed)


def test_another_key_does_not_open_it(tmp_path):
    sealed, _ = _sealed(tmp_path, 1000)
    with pytest.raises(SealBroken, match="another PII key"):
        FileSeal(PiiHasher(OTHER_KEY)).read(sealed)


def test_a_crash_while_sealing_leaves_the_plain_file_and_no_sealed_one(tmp_path, monkeypatch):
    path, body = _statement(tmp_path, 3 * CHUNK)

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        FileSeal(PiiHasher(KEY)).seal(path)
    assert path.read_bytes() == body
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name], "no sealed file, no partial one"


def test_the_file_key_is_derived_not_the_pii_key_itself():
    hasher = PiiHasher(KEY)
    assert hasher.derive("files-at-rest") != KEY and len(hasher.derive("files-at-rest")) == 32
    assert hasher.derive("files-at-rest") != hasher.derive("something-else")
    assert hasher.derive("files-at-rest") != PiiHasher(OTHER_KEY).derive("files-at-rest")
