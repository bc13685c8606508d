"""The contract list export (`GET /api/v1/contracts/export.xlsx`), as docs/trading_network_api.md lays it out.

One sheet `合同列表`: two title lines, then the header row, then one row per contract. Buyer names and
masked ID numbers are joined by `、`; times are Beijing time `YYYY-MM-DD HH:MM:SS`; money and areas are
text with two decimals, as the API gives them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from connectors.identity import mask_id
from sandbox.world.clock import BUSINESS_TZ

SHEET_TITLE = "合同列表"
TITLE = "合同备案信息导出"
HEADER = (
    "合同编号", "合同类型", "合同状态", "项目名称", "房屋编号", "楼栋", "单元", "楼层", "房号", "建筑面积",
    "套内面积", "成交单价", "成交总价", "付款方式", "签约时间", "备案时间", "买受人", "证件号码", "更新时间",
)  # fmt: skip
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def beijing_text(value: str | None) -> str | None:
    """`2026-03-12T14:03:00+08:00` (any offset) → `2026-03-12 14:03:00` in Beijing time."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")


def export_row(contract: dict[str, Any]) -> list[Any]:
    house = contract.get("house") or {}
    price = contract.get("price") or {}
    buyers = contract.get("buyers") or []
    return [
        contract["contract_no"],
        contract.get("contract_type"),
        contract.get("state"),
        (contract.get("project") or {}).get("name"),
        house.get("house_id"),
        house.get("building"),
        house.get("unit"),
        house.get("floor"),
        house.get("room"),
        house.get("building_area"),
        house.get("inner_area"),
        price.get("unit_price"),
        price.get("total_price"),
        contract.get("payment_method"),
        beijing_text(contract.get("signed_at")),
        beijing_text(contract.get("filed_at")),
        "、".join(b["name"] for b in buyers),
        "、".join(mask_id(b["id_number"]) for b in buyers if b.get("id_number")),
        beijing_text(contract.get("updated_at")),
    ]


def write_export(contracts: Iterable[dict[str, Any]], exported_at: datetime) -> bytes:
    """The workbook as bytes (openpyxl write-only mode: rows stream, memory stays flat)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    sheet.append([TITLE])
    sheet.append([f"导出时间：{exported_at.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M:%S}"])
    sheet.append(list(HEADER))
    for contract in contracts:
        sheet.append(export_row(contract))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
