"""A memo that ends in half an emoji (a lone UTF-16 surrogate, sent as a JSON escape by an ERP that cuts text
by UTF-16 units) is one record with U+FFFD in its place, never a sync that stops at the same record each run."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from connectors.http import _decode_json
from connectors.ledger import LedgerClient
from estatehub.ledger.sync import sync_ledger
from estatehub.ledger.tables import STAGING
from estatehub.settings import SyncSettings
from estatehub.warehouse import Warehouse
from estatehub.warehouse.tables import raw_record
from sandbox.ledger.server import LedgerServer

QUERIES = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService"


def test_a_lone_surrogate_escape_becomes_the_replacement_character_and_a_pair_stays_the_emoji():
    body = b'{"memo":"\\u6536 101 \\ud83c","ok":"\\ud83c\\udfe0","\\udfe0key":[1,"x\\uDFE0"]}'
    assert _decode_json(body) == {"memo": "收 101 \ufffd", "ok": "🏠", "\ufffdkey": [1, "x\ufffd"]}
    assert _decode_json('{"a":"🏠 C:\\\\udata"}'.encode()) == {"a": "🏠 C:\\udata"}  # no escape: as it came


def test_a_memo_cut_in_the_middle_of_an_emoji_is_loaded_with_the_replacement_character(
    warehouse: Warehouse, make_client: Callable[..., LedgerClient], erp: LedgerServer
) -> None:
    erp.faults.replace(
        [{"kind": "malformed", "path": QUERIES, "every": 3, "count": 2, "corruptions": ["cut_character"]}], seed=3
    )
    result = sync_ledger(make_client(page_size=400), warehouse, settings=SyncSettings(batch_size=400))
    corrupted = erp.faults.describe()["corrupted"]
    erp.faults.replace([])

    assert len(corrupted) >= 4
    assert {entry["corruption"] for entry in corrupted} == {"cut_character"}
    assert result.quarantined == 0
    with warehouse.engine.connect() as conn:
        cut = [
            text
            for form, column in (("GL_VOUCHER", "memo"), ("AR_RECEIVEBILL", "remark"), ("IV_SALESOC", "remark"))
            for text in conn.execute(select(STAGING[form].c[column])).scalars()
            if text and text.endswith(" \ufffd")
        ]
        payloads = [
            payload
            for payload in conn.execute(select(raw_record.c.payload)).scalars()
            if "\ufffd" in (payload if isinstance(payload, str) else str(payload))
        ]
    assert len(cut) == len(corrupted)  # each kept, its half character replaced
    assert len(payloads) == len(corrupted)  # and its raw record stored
