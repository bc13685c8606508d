"""The linking's memos read ahead in a forked process while the linker links the chunk before (decision 0045):
the same links as the linker reading each memo itself, on SQLite and PostgreSQL, and no memo read in the
linker's own process. The tests' other linking runs read inline (`ESTATEHUB_READ_AHEAD=thread`: tests/conftest.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

import estatehub.ledger.load
import estatehub.sync.stream
from connectors.ledger import LedgerClient
from estatehub.ledger.link import CUSTOMERS, all_customers, memo_readings
from estatehub.ledger.load import link_codes
from estatehub.ledger.sync import sync_ledger
from estatehub.ledger.tables import core_invoice, core_receipt, core_refund
from estatehub.memo import parse_memo
from estatehub.sync.batches import PROCESS, batches, can_fork
from estatehub.warehouse import Warehouse
from tests.ledger.test_ledger_warehouse import SETTINGS, WORLD_END, _load_contracts

TABLES = (core_receipt, core_refund, core_invoice)
LINK_COLUMNS = ("contract_no", "house_id", "link_basis", "link_confidence")

pytestmark = pytest.mark.skipif(not can_fork(), reason="the memos are read ahead in a forked process on Linux only")


@pytest.fixture
def client(make_client: Callable[..., LedgerClient]) -> LedgerClient:
    return make_client(page_size=500)


def _links(warehouse: Warehouse) -> dict[str, list[tuple]]:
    with warehouse.engine.connect() as conn:
        found = {}
        for table in TABLES:
            key = table.c.bill_id if "bill_id" in table.c else table.c.invoice_id
            columns = [key, *(table.c[name] for name in LINK_COLUMNS)]
            found[table.name] = [tuple(row) for row in conn.execute(select(*columns).order_by(key))]
        return found


def test_memos_read_ahead_in_a_process_link_every_row_as_the_linker_reading_them_itself(
    warehouse: Warehouse, client: LedgerClient, world_path: Path
) -> None:
    _load_contracts(warehouse, world_path)
    sync_ledger(client, warehouse, settings=SETTINGS)  # linked as it loaded: each memo read by the linker
    inline = _links(warehouse)
    with warehouse.begin() as conn:
        everyone = all_customers(conn)
        for table in TABLES:
            conn.execute(update(table).values({name: None for name in (*LINK_COLUMNS, "linked_at")}))
    parse_memo.cache_clear()

    link_codes(warehouse, everyone, at=WORLD_END, chunk=50, read_ahead=PROCESS)

    assert parse_memo.cache_info().misses == 0, "every memo the linker needed was read in the other process"
    assert _links(warehouse) == inline
    assert all(sum(row[1] is not None for row in rows) > 100 for rows in inline.values()), "rows of each table linked"
    assert len(everyone) > 100  # chunks of 50: the reading process reads across many chunks and both passes
    with warehouse.engine.connect() as conn:
        assert all(
            conn.execute(select(table.c.linked_at.is_(None)).distinct()).scalars().all() == [False] for table in TABLES
        )


def test_a_warehouse_in_memory_is_linked_in_its_own_process() -> None:
    """A SQLite database in memory is seen by the connection that made it only: a reading process would find
    no table there, so the linker reads the memos itself."""
    from tests.conftest import TEST_PII_KEY

    warehouse = Warehouse.from_url("sqlite://", pii_key=TEST_PII_KEY)
    warehouse.prepare()
    with warehouse.begin() as conn:
        conn.execute(
            core_receipt.insert(),
            [
                {
                    "bill_id": 1,
                    "bill_no": "SKD0001",
                    "receipt_on": WORLD_END.date(),
                    "customer_code": "KH1",
                    "customer_name": "张三",
                    "amount_fen": 100,
                    "remark": "收1栋1单元502室房款",
                    "is_audited": True,
                    "is_voided": False,
                    "created_at": WORLD_END,
                    "modified_at": WORLD_END,
                }
            ],
        )
    assert link_codes(warehouse, ["KH1"], at=WORLD_END, read_ahead=PROCESS) == (0, 1)
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(core_receipt.c.linked_at)).scalar_one() is not None


def test_a_pass_the_linker_does_not_make_is_refused(warehouse: Warehouse) -> None:
    with warehouse.engine.connect() as conn:
        assert memo_readings(conn, CUSTOMERS, ["KH1"]) == {}
        with pytest.raises(ValueError, match="expected the pass"):
            memo_readings(conn, "vouchers", ["KH1"])


@pytest.mark.parametrize(
    ("url", "shared"),
    [
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///file::memory:?cache=shared&uri=true", False),
        ("sqlite:///file:ledger?mode=memory&cache=shared&uri=true", False),
        ("sqlite:///{tmp}/warehouse.db", True),
        ("postgresql://postgres@127.0.0.1:5432/postgres", True),
    ],
)
def test_only_a_warehouse_another_process_can_open_has_its_memos_read_in_one(
    url: str, shared: bool, tmp_path: Path
) -> None:
    from estatehub.ledger.load import _shared
    from tests.conftest import TEST_PII_KEY

    warehouse = Warehouse.from_url(url.format(tmp=tmp_path), pii_key=TEST_PII_KEY)  # no connection made
    try:
        assert _shared(warehouse) is shared
    finally:
        warehouse.engine.dispose()


@pytest.mark.filterwarnings("error::DeprecationWarning")  # an `or_()` of no condition is deprecated
def test_no_customer_codes_link_nothing_and_ask_nothing(warehouse: Warehouse) -> None:
    from estatehub.ledger.link import INVOICES, link_customers, link_invoices_of

    with warehouse.engine.connect() as conn:
        assert memo_readings(conn, CUSTOMERS, []) == memo_readings(conn, INVOICES, []) == {}
        assert link_customers(conn, [], at=WORLD_END) == (0, 0)
        assert link_invoices_of(conn, [], at=WORLD_END) == 0


def test_nothing_to_link_forks_no_process(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """An hourly sync with no customer to link starts no reading process."""
    import os

    def fork() -> int:
        raise AssertionError("a process was forked with nothing to link")

    monkeypatch.setattr(os, "fork", fork)
    assert link_codes(warehouse, [], at=WORLD_END, read_ahead=PROCESS) == (0, 0)


@pytest.mark.parametrize("read_ahead", [True, False])
def test_the_ledger_sync_reads_ahead_where_its_settings_say_in_its_streams_and_its_linking(
    warehouse: Warehouse, client: LedgerClient, world_path: Path, monkeypatch: pytest.MonkeyPatch, read_ahead: bool
) -> None:
    """The settings' mode over the installation's (the tests' is a thread: tests/conftest.py), for the streams
    and the linking alike (`SyncSettings.read_ahead_where`); none at all where the run is asked to read inline."""
    asked: list[tuple[str, object]] = []
    for module in (estatehub.sync.stream, estatehub.ledger.load):

        def spy(*args, name=module.__name__, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            asked.append((name, kwargs["read_ahead"]))
            return batches(*args, **kwargs)

        monkeypatch.setattr(module, "batches", spy)
    _load_contracts(warehouse, world_path)

    sync_ledger(client, warehouse, settings=dataclasses.replace(SETTINGS, read_ahead=PROCESS), read_ahead=read_ahead)

    where = {name for name, _ in asked}
    if read_ahead:
        assert where == {"estatehub.sync.stream", "estatehub.ledger.load"}
        assert {mode for _, mode in asked} == {PROCESS}
    else:
        assert where == {"estatehub.sync.stream"}, "the linking reads its memos itself"
        assert {mode for _, mode in asked} == {False}
