"""Search what the hub wrote for the world's personal data, in clear.

The world's people are read from the sandbox's own files (the outside systems): every buyer's and
borrower's ID number and phone in the contracts, every payer's card or account number on the banks'
statements. `scan` then searches every file under the given folders — the warehouse's SQLite file
byte for byte (every text column of every table, and pages SQLite freed but did not overwrite),
Airflow's metadata database, the logs, the downloaded files, the mail kept as `.eml` — as UTF-8 and
UTF-16 bytes, and every member of a zip (XLSX, DOCX). The sandbox's own folder is not the hub's: it
plays the outside world, which holds the data by nature.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

# ID types whose number identifies a person (a company's credit code does not)
_PERSONAL_FIELDS = ("id_number", "phone", "borrower_id_number", "borrower_phone")


@dataclass(frozen=True)
class Leak:
    path: str
    kind: str
    masked: str  # the value found, masked so that the failure message does not leak it either


def _mask(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 8 else "***"


def world_secrets(sandbox_folder: Path) -> dict[str, str]:
    """Every full ID number, phone and payer card/account number of the world: value → kind (the
    developer's own collection accounts excluded: they are the company's, on every statement)."""
    secrets: dict[str, str] = {}
    world = next(path for path in sandbox_folder.glob("world-*.sqlite") if path.name.count(".") == 1)
    with sqlite3.connect(f"{world.resolve().as_uri()}?mode=ro", uri=True) as db:
        for (doc,) in db.execute("select doc from contracts"):
            _collect(json.loads(doc), secrets)
    for banks in sandbox_folder.glob("world-*.banks-*.sqlite"):
        with sqlite3.connect(f"{banks.resolve().as_uri()}?mode=ro", uri=True) as db:
            # the developer's own collection accounts are no one's personal data (releases, transfers)
            own = {number for (number,) in db.execute("select account_no from accounts")}
            for (number,) in db.execute("select distinct counterparty_account from statement_lines"):
                if number and number not in own and sum(ch.isdigit() for ch in number) >= 12:
                    secrets[number] = "card"
            for (doc,) in db.execute("select doc from loans"):
                _collect(json.loads(doc), secrets)
    return secrets


def _collect(node: object, secrets: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _PERSONAL_FIELDS and isinstance(value, str) and len(value) >= 8:
                secrets[value] = "phone" if "phone" in key else "id_number"
            else:
                _collect(value, secrets)
    elif isinstance(node, list):
        for value in node:
            _collect(value, secrets)


def _contents(path: Path) -> Iterator[bytes]:
    raw = path.read_bytes()
    yield raw
    if raw[:2] == b"PK" and zipfile.is_zipfile(io.BytesIO(raw)):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            for member in archive.namelist():
                yield archive.read(member)
    if path.suffix == ".eml":
        message = BytesParser(policy=policy.default).parsebytes(raw)
        for part in message.walk():
            if not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                yield payload
                if payload[:2] == b"PK" and zipfile.is_zipfile(io.BytesIO(payload)):
                    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                        for member in archive.namelist():
                            yield archive.read(member)


def files_under(*folders: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    skipped = [folder.resolve() for folder in skip]
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not any(path.resolve().is_relative_to(other) for other in skipped):
                found.append(path)
    return found


def scan(files: list[Path], secrets: dict[str, str]) -> list[Leak]:
    needles = [(value, kind, value.encode(), value.encode("utf-16-le")) for value, kind in secrets.items()]
    leaks = []
    for path in files:
        for blob in _contents(path):
            for value, kind, utf8, utf16 in needles:
                if utf8 in blob or utf16 in blob:
                    leaks.append(Leak(str(path), kind, _mask(value)))
    return sorted(set(leaks), key=lambda leak: (leak.path, leak.kind, leak.masked))
