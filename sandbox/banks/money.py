"""Every contract of a world with its cash flows, in the order the flows need: a contract before the one
that replaces it.

`sandbox.ledger.cash.cash_flows` decides what money moved for one contract (the ledger books it, the
banks show it); a replacement contract starts with what the cancelled one had received (`carried_fen`)
and a cancelled contract's leftovers go to its successor. This module feeds it those two facts while
streaming the world store ordered by `first_at` (a replacement always starts after the contract it
replaces), remembering only the contracts that are replaced until their successor comes.

The ledger's face must iterate the same way (same seed, same `end`) to see the same flows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sandbox.ledger.cash import ContractCash, cash_flows, loan_refused


@dataclass(frozen=True, slots=True)
class ContractMoney:
    doc: dict
    cash: ContractCash
    loan_refused: bool


def world_end(meta: dict[str, str]) -> datetime:
    """The last moment of the world (naive Beijing time)."""
    return datetime.combine(date.fromisoformat(meta["end_on"]), time(23, 59, 59))


def open_world_db(world_path: str | Path) -> sqlite3.Connection:
    path = Path(world_path)
    if not path.is_file():
        raise FileNotFoundError(f"no world file at {path}: generate the world first")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("select key, value from meta").fetchall())


def is_clean(meta: dict[str, str]) -> bool:
    """Whether the world was generated with `--clean` (it plants no irregularity in any face)."""
    return meta.get("clean") == "1"


def iter_contract_money(world_path: str | Path, *, seed: int | None = None) -> Iterator[ContractMoney]:
    """Each contract document with its cash flows up to the world's end, predecessors first."""
    db = open_world_db(world_path)
    try:
        meta = read_meta(db)
        clean = is_clean(meta)
        seed = int(meta["seed"]) if seed is None else seed
        end = world_end(meta)
        successors = _successors(db)
        carried: dict[str, int] = {}
        for (text,) in db.execute("select doc from contracts order by first_at, contract_no"):
            doc = json.loads(text)
            number = doc["contract_no"]
            successor = None
            if number in successors and doc.get("cancellation"):
                successor = (successors[number], doc["cancellation"]["reason_code"])
            previous = doc.get("previous_contract_no")
            cash = cash_flows(
                doc,
                seed=seed,
                end=end,
                carried_fen=carried.pop(previous, 0) if previous else 0,
                successor=successor,
                clean=clean,
            )
            if successor is not None:
                carried[number] = cash.received_fen
            yield ContractMoney(doc, cash, loan_refused(doc))
    finally:
        db.close()


def _successors(db: sqlite3.Connection) -> dict[str, str]:
    rows = db.execute(
        "select json_extract(doc, '$.previous_contract_no'), contract_no from contracts"
        " where json_extract(doc, '$.previous_contract_no') is not null"
    )
    return {previous: number for previous, number in rows}
