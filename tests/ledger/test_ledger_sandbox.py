"""The sandbox's ledger: what finance booked, derived from the world, with its ground truth."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from estatehub.memo import parse_memo
from sandbox.banks.world import ensure_bank_world
from sandbox.ledger.book import DocList, WorldContracts, build_ledger
from sandbox.ledger.memos import STYLES, Address, chinese_number

PLANTED = {
    "wrong_customer",
    "wrong_unit_memo",
    "late_booking",
    "deposit_not_converted",
    "refund_not_booked",
    "invoice_without_receipt",
    "duplicate_receipt",
    "voided_rebooked",
    "red_reversed",
    "not_invoiced",
}


def _digest(path: Path) -> str:
    db = sqlite3.connect(path)
    digest = hashlib.sha256()
    for table in ("vouchers", "entries", "receipts", "refunds", "invoices", "truth", "memo_truth", "links"):
        for row in db.execute(f"select * from {table} order by 1, 2"):
            digest.update(repr(row).encode())
    db.close()
    return digest.hexdigest()


def test_build_ledger_gives_the_same_books_for_the_same_world_and_seed(
    world_path: Path, ledger_path: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.db"
    source = WorldContracts(world_path)
    try:
        build_ledger(source, again, seed=7, bank_world=ensure_bank_world(world_path))
    finally:
        source.close()
    assert _digest(again) == _digest(ledger_path)


def test_every_voucher_balances(ledger_path: Path) -> None:
    db = sqlite3.connect(ledger_path)
    unbalanced = db.execute(
        "select voucher_id from entries group by voucher_id having sum(debit_fen) <> sum(credit_fen)"
    ).fetchall()
    assert db.execute("select count(*) from vouchers").fetchone()[0] > 500
    assert unbalanced == []


def test_the_ledger_plants_every_kind_of_irregularity(ledger_path: Path) -> None:
    db = sqlite3.connect(ledger_path)
    kinds = {kind for (kind,) in db.execute("select distinct kind from truth")}
    assert kinds >= PLANTED


def test_voided_and_red_reversed_items_stay_in_the_books(ledger_path: Path) -> None:
    db = sqlite3.connect(ledger_path)
    for (detail,) in db.execute("select detail from truth where kind = 'voided_rebooked'"):
        found = json.loads(detail)
        voided = db.execute("select voided_at from receipts where bill_no = ?", (found["voided_bill_no"],)).fetchone()
        assert voided is not None and voided[0] is not None
        rebooked = db.execute("select voided_at from receipts where bill_no = ?", (found["bill_no"],)).fetchone()
        assert rebooked == (None,)
    for (detail,) in db.execute("select detail from truth where kind = 'red_reversed'"):
        found = json.loads(detail)
        (reverses,) = db.execute(
            "select reverses_id from vouchers where voucher_id = ?", (found["red_voucher_id"],)
        ).fetchone()
        assert reverses == found["voucher_id"]
        original, red = (
            db.execute("select sum(debit_fen) from entries where voucher_id = ?", (voucher,)).fetchone()[0]
            for voucher in (found["voucher_id"], found["red_voucher_id"])
        )
        assert red == -original


def test_every_receipt_is_linked_to_the_contract_it_pays(ledger_path: Path) -> None:
    db = sqlite3.connect(ledger_path)
    unlinked = db.execute(
        "select count(*) from receipts r left join links l on l.form = 'AR_RECEIVEBILL' and l.ref = r.bill_no"
        " where l.ref is null"
    ).fetchone()[0]
    assert unlinked == 0


def test_memo_truth_covers_every_style(ledger_path: Path) -> None:
    db = sqlite3.connect(ledger_path)
    styles = {style.split("+")[0] for (style,) in db.execute("select distinct style from memo_truth")}
    assert styles >= set(STYLES) | {"no-unit"}
    two_units = db.execute("select count(*) from memo_truth where json_array_length(written) > 1").fetchone()[0]
    assert two_units > 0


def test_the_memo_parser_meets_its_targets_on_the_sandbox_ledger(ledger_path: Path, world_path: Path) -> None:
    from bench.memo_score import PRECISION_TARGET, RECALL_TARGET, score_ledger

    score = score_ledger(ledger_path, world_path)
    assert score.named_memos > 1000
    assert score.precision >= PRECISION_TARGET
    assert score.recall >= RECALL_TARGET
    assert score.precision_all >= PRECISION_TARGET
    assert score.kind_accuracy >= 0.99


@pytest.mark.parametrize("style", sorted(STYLES))
def test_each_memo_style_writes_what_its_truth_says(style: str) -> None:
    import random

    rng = random.Random(style)
    for address in (Address("P01-03-2-1502", 3, 2, 15, 2), Address("P01-12-1-802", 12, 1, 8, 2)):
        for _ in range(20):
            text, written = STYLES[style][1](rng, address)
            assert written[2] == address.room
            assert [ref.key for ref in parse_memo(text).units] == [written], text


def test_chinese_number_spells_building_numbers() -> None:
    assert [chinese_number(n) for n in (3, 10, 12, 20, 21)] == ["三", "十", "十二", "二十", "二十一"]


# -- hand-made contracts -----------------------------------------------------------------------------


def _doc(no: str, kind: str, *, plan: list[dict], history: list[dict], **extra) -> dict:  # noqa: ANN003
    doc = {
        "contract_no": no,
        "contract_type": kind,
        "state": history[-1]["state"],
        "updated_at": history[-1]["at"],
        "project": {"code": "P01", "name": "滨江悦府"},
        "house": {"house_id": "P01-03-2-1502", "building": "3栋", "unit": "2单元", "floor": 15, "room": "1502"},
        "price": {"unit_price": "45000.00", "total_price": "4010400.00", "deposit": "50000.00"},
        "payment_method": extra.pop("payment_method", None),
        "subscription_no": extra.pop("subscription_no", None),
        "previous_contract_no": None,
        "signed_at": history[1]["at"] if len(history) > 1 else None,
        "filed_at": extra.pop("filed_at", None),
        "cancellation": None,
        "buyers": [
            {
                "name": "张三",
                "id_type": "身份证",
                "id_number": "990101198803071234",
                "phone": None,
                "share": "100.00",
                "is_primary": True,
            }
        ],
        "payment_plan": plan,
        "history": history,
        "handover": None,
        "registration": None,
    }
    doc.update(extra)
    return doc


def test_a_mortgage_sale_is_booked_as_deposit_down_payment_and_disbursement(tmp_path: Path) -> None:
    subscription = _doc(
        "RG2026P01000011",
        "认购",
        plan=[{"seq": 1, "kind": "定金", "due_on": "2026-03-01", "amount": "50000.00", "bank": None}],
        history=[
            {"state": "待签", "at": "2026-03-01T10:00:00+08:00"},
            {"state": "已签", "at": "2026-03-01T10:20:00+08:00"},
        ],
    )
    sale = _doc(
        "YS2026P01000012",
        "预售",
        subscription_no="RG2026P01000011",
        payment_method="商贷",
        filed_at="2026-03-20T09:30:00+08:00",
        plan=[
            {"seq": 1, "kind": "定金", "due_on": "2026-03-01", "amount": "50000.00", "bank": None},
            {"seq": 2, "kind": "首付", "due_on": "2026-03-19", "amount": "1153120.00", "bank": None},
            {"seq": 3, "kind": "按揭", "due_on": "2026-05-10", "amount": "2807280.00", "bank": "建设银行"},
        ],
        history=[
            {"state": "待签", "at": "2026-03-10T10:00:00+08:00"},
            {"state": "已签", "at": "2026-03-12T14:03:00+08:00"},
            {"state": "已备案", "at": "2026-03-20T09:30:00+08:00"},
        ],
    )
    out = tmp_path / "ledger.db"
    build_ledger(DocList([subscription, sale], end=datetime(2026, 12, 31, 23, 59, 59)), out, seed=3)
    db = sqlite3.connect(out)
    kinds = dict(
        db.execute(
            "select l.kind, sum(r.amount_fen) from receipts r join links l on l.form = 'AR_RECEIVEBILL'"
            " and l.ref = r.bill_no where r.voided_at is null group by l.kind"
        ).fetchall()
    )
    truth = {kind for (kind,) in db.execute("select kind from truth")}
    if "duplicate_receipt" not in truth:
        assert kinds.get("首付") == 115_312_000
        # 建设银行 holds 5% back as a guarantee deposit (按揭保证金) until the mortgage is registered,
        # which this contract never reaches: 2,807,280.00 less 140,364.00
        assert kinds.get("按揭") == 266_691_600
    assert kinds.get("定金", 0) + kinds.get("诚意金", 0) == 5_000_000
    customers = {code for (code,) in db.execute("select distinct customer_code from receipts")}
    assert customers <= {"KH2026P01000011"} or "wrong_customer" in truth
    for (text,) in db.execute("select text from memo_truth where written <> '[]'"):
        assert parse_memo(text).units, text
