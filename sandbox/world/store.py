"""The world store: one SQLite file the generator writes and every sandbox server reads.

Tables (the contract between the generator and the servers — keep them exactly):

- `meta(key, value)`: seed, units, start_on, end_on, months, contracts, events, generator_version, …
- `units(house_id, project_code, project_name, district, building, unit, floor, room, permit_no, usage,
  building_area, inner_area, shared_area, unit_price, list_total, orientation, delivery_on)`: money and
  areas as two-decimal text.
- `contracts(contract_no, house_id, first_at, doc)`: `doc` is the JSON of the contract's whole life at
  the world's end, in the API detail shape plus timing keys (see `sandbox.world.view`); `first_at` is
  the UTC text of its first history entry.
- `events(contract_no, at)`: one row per moment the contract's visible view changes, `at` in UTC text
  (`YYYY-MM-DDTHH:MM:SS+00:00`, sortable); indexed on (at, contract_no).
- `ground_truth(kind, contract_no, house_id, on_date, detail)`: see `sandbox.world.truth`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SCHEMA = (
    "create table meta (key text primary key, value text)",
    """create table units (
        house_id text primary key, project_code text, project_name text, district text, building text,
        unit text, floor integer, room text, permit_no text, usage text, building_area text,
        inner_area text, shared_area text, unit_price text, list_total text, orientation text,
        delivery_on text)""",
    "create table contracts (contract_no text primary key, house_id text, first_at text, doc text)",
    "create table events (contract_no text, at text)",
    "create table ground_truth (kind text, contract_no text, house_id text, on_date text, detail text)",
)
# built after the bulk load: cheaper than maintaining them row by row
INDEXES = (
    "create index events_at on events (at, contract_no)",
    "create index contracts_house on contracts (house_id)",
    "create index ground_truth_kind on ground_truth (kind, on_date)",
)
TABLE_ORDER = {
    "meta": "key",
    "units": "house_id",
    "contracts": "contract_no",
    "events": "at, contract_no",
    "ground_truth": "kind, contract_no, on_date, detail",
}


def _read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


class WorldStoreError(RuntimeError):
    """A world file that is missing, unreadable or not a world."""


@dataclass(frozen=True, slots=True)
class GroundTruth:
    kind: str
    contract_no: str
    house_id: str
    on_date: str
    detail: dict


class WorldWriter:
    """Writes a new world file in batches, one transaction per batch; the file is not durable until closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("pragma page_size = 16384")  # documents are 2–3 KB: fewer, fuller pages
        self._db.execute("pragma journal_mode = off")
        self._db.execute("pragma synchronous = off")
        self._db.execute("pragma cache_size = -32768")  # 32 MB: also bounds the index sorts at the end
        for statement in SCHEMA:
            self._db.execute(statement)

    def write_batch(self, units: list[tuple], contracts: list[tuple], events: list[tuple], truth: list[tuple]) -> None:
        db = self._db
        db.execute("begin")
        db.executemany("insert into units values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", units)
        db.executemany("insert into contracts values (?,?,?,?)", contracts)
        db.executemany("insert into events values (?,?)", events)
        db.executemany("insert into ground_truth values (?,?,?,?,?)", truth)
        db.execute("commit")

    def finish(self, meta: dict[str, str]) -> None:
        db = self._db
        db.execute("begin")
        db.executemany("insert into meta values (?, ?)", sorted(meta.items()))
        for statement in INDEXES:
            db.execute(statement)
        db.execute("commit")
        db.close()

    def abort(self) -> None:
        self._db.close()


class WorldStore:
    """Read access to a world file.

    One read-only connection; `get_doc` may be called from several threads, an iterator belongs to the
    thread that started it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise WorldStoreError(f"no world file at {self.path}; generate one with `python -m sandbox.world generate`")
        self._db = sqlite3.connect(_read_only_uri(self.path), uri=True, check_same_thread=False)
        try:
            rows = self._db.execute("select key, value from meta").fetchall()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise WorldStoreError(f"{self.path} is not a world file (no readable meta table): {exc}") from exc
        self.meta: dict[str, str] = dict(rows)

    def __enter__(self) -> WorldStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def get_doc(self, contract_no: str) -> dict | None:
        """The stored whole-life document of a contract (with timing keys), or None."""
        row = self._db.execute("select doc from contracts where contract_no = ?", (contract_no,)).fetchone()
        return json.loads(row[0]) if row else None

    def iter_docs(self) -> Iterator[dict]:
        """Every stored document, in contract-number order."""
        for (doc,) in self._db.execute("select doc from contracts order by contract_no"):
            yield json.loads(doc)

    def iter_ground_truth(self, kind: str | None = None) -> Iterator[GroundTruth]:
        """The planted irregularities (of one kind), ordered by on_date and contract number."""
        query = "select kind, contract_no, house_id, on_date, detail from ground_truth"
        params: tuple = ()
        if kind is not None:
            query += " where kind = ?"
            params = (kind,)
        for row in self._db.execute(query + " order by on_date, contract_no, kind", params):
            yield GroundTruth(*row[:4], json.loads(row[4]))

    def iter_units(self) -> Iterator[dict]:
        cursor = self._db.execute("select * from units order by house_id")
        names = [column[0] for column in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    def count(self, table: str) -> int:
        if table not in TABLE_ORDER:
            raise ValueError(f"expected one of {sorted(TABLE_ORDER)}, got {table!r}")
        return self._db.execute(f"select count(*) from {table}").fetchone()[0]


def open_world(path: str | Path) -> WorldStore:
    """Open a world file for reading."""
    return WorldStore(path)


def world_digest(path: str | Path) -> str:
    """SHA-256 over the contents of every table in key order: equal worlds give equal digests."""
    digest = hashlib.sha256()
    db = sqlite3.connect(_read_only_uri(Path(path)), uri=True)
    try:
        for table, order in TABLE_ORDER.items():
            digest.update(f"\x1e{table}\x1e".encode())
            for row in db.execute(f"select * from {table} order by {order}"):
                digest.update(repr(row).encode())
    finally:
        db.close()
    return digest.hexdigest()
