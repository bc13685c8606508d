"""A PII key too short or too regular is refused with a message that says what to do and not what the key is."""

from __future__ import annotations

import json
import secrets

import pytest

from estatehub.cli import main
from estatehub.pii import PiiHasher, WeakPiiKey


@pytest.mark.parametrize(
    "key",
    [b"a" * 16, b"a" * 64, b"ab" * 20, b"0123456789012345678901234567890", b"abcdabcdabcdabcdabcdabcdabcdabcd"],
    ids=["16 a", "64 a", "ab repeated", "31 digits", "abcd repeated"],
)
def test_a_short_or_regular_key_is_refused(key):
    with pytest.raises(WeakPiiKey, match="at least 32 random characters") as refused:
        PiiHasher(key)
    assert key.decode() not in str(refused.value)
    assert "secrets.token_urlsafe(32)" in str(refused.value)


def test_random_keys_of_the_recommended_kinds_are_taken():
    for _ in range(200):
        PiiHasher(secrets.token_urlsafe(32).encode())
        PiiHasher(secrets.token_hex(32).encode())


def test_the_command_line_refuses_a_weak_key_in_one_line(tmp_path, monkeypatch, capsys):
    connection = {"conn_type": "sqlite", "host": str(tmp_path / "w.db"), "extra": {"pii_key": "a" * 16}}
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(connection))
    assert main(["warehouse", "upgrade"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 2 and "at least 32 random characters" in err[0]
    assert "a" * 16 not in "\n".join(err)
