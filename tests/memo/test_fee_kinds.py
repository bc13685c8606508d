"""Fees collected for others (契税, 维修基金, 登记费) read from a memo and from a receipt's purpose: other
payables, never a kind of sale proceeds (decision 0028)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connectors.ledger.records import Receipt
from estatehub.ledger.load import stage_record
from estatehub.memo import FEE_KINDS, fee_kind, parse_memo
from estatehub.reconcile.checks import PROCEEDS_KINDS


@pytest.mark.parametrize(
    ("memo", "kind"),
    [
        ("3-2-1502 张三 代收契税", "契税"),
        ("张杰1栋1单元101契税", "契税"),
        ("收1-1-1102 契稅款", "契税"),  # the traditional character
        ("吕毅 3栋1502 代收契锐", "契税"),  # a slip of the input method
        ("1-1-0101维修基金 3月21日", "维修基金"),
        ("3栋2单元1502 专项维修资金", "维修基金"),
        ("收3-2-1502维修基全", "维修基金"),
        ("3#2单元1502 公共维修基金", "维修基金"),
        ("1座1单元101室 张杰 代收登记费", "登记费"),
        ("3-2-1502 不动产登记费", "登记费"),
        ("3-2-1502 登计费", "登记费"),
        ("3-2-1502 办证登记费", "登记费"),
    ],
)
def test_a_memo_naming_a_fee_reads_as_that_fee(memo: str, kind: str) -> None:
    reading = parse_memo(memo)
    assert reading.kinds == (kind,)
    assert reading.units, "the fee's words do not hide the unit"


def test_no_fee_kind_is_a_kind_of_sale_proceeds() -> None:
    assert set(FEE_KINDS).isdisjoint(PROCEEDS_KINDS)
    assert parse_memo("3-2-1502 首付款").kinds == ("首付",)  # the sale kinds read as before
    assert parse_memo("3栋2单元1502 抵押登记 按揭").kinds == ("按揭",)  # 登记 alone is no fee


@pytest.mark.parametrize(
    ("purpose", "memo_kind", "kind"),
    [
        ("代收契税", None, "契税"),
        ("代收维修基金", "首付", "维修基金"),  # the purpose names the fee: it wins over a memo's slip
        ("代收款项", "登记费", "登记费"),  # a purpose that says only "collected for others": the memo names it
        ("代收款", None, "代收款"),
        ("预收房款", "契税", None),  # a purpose of sale proceeds names no fee: the memo's kind stands
        (None, "契税", None),
    ],
)
def test_a_receipt_s_purpose_decides_a_fee(purpose: str | None, memo_kind: str | None, kind: str | None) -> None:
    assert fee_kind(purpose, memo_kind) == kind


def _receipt(purpose: str, remark: str) -> Receipt:
    at = datetime(2026, 3, 2, 2, tzinfo=UTC)
    return Receipt(
        1, "SKD00000001", date(2026, 3, 2), "KH1", "张三", "张三", "POS刷卡", purpose, "4000021209200123456",
        "工行一般户", Decimal("80.00"), remark, "P01", "云栖府", True, False, at, at, payload={},
    )  # fmt: skip


def test_the_ledger_sync_stores_a_fee_receipt_under_its_fee_kind() -> None:
    assert stage_record(_receipt("代收登记费", "3-2-1502 张三"))["payment_kind"] == "登记费"
    assert stage_record(_receipt("代收款项", "3-2-1502 张三 维修资金"))["payment_kind"] == "维修基金"
    assert stage_record(_receipt("预收房款", "3-2-1502 张三 首付"))["payment_kind"] == "首付"
    assert stage_record(_receipt("预收房款", "3-2-1502 张三 代收契税"))["payment_kind"] == "契税"
