"""Helpers of the trading network tests: a valid contract in the API's detail form, envelopes, pages."""

from __future__ import annotations

import copy
from typing import Any

import responses

from connectors.identity import id_check_char, uscc_check_char

BASE_URL = "https://tn.example.test"
ACCOUNT = "dev01"
PASSWORD = "pw-not-a-secret"
LOGIN_URL = f"{BASE_URL}/api/v1/auth/login"
CONTRACTS_URL = f"{BASE_URL}/api/v1/contracts"


def resident_id(first17: str = "99010119880307123") -> str:
    return first17 + id_check_char(first17)


def credit_code(first17: str = "91990000MA5DABCDE") -> str:
    return first17 + uscc_check_char(first17)


DETAIL: dict[str, Any] = {
    "contract_no": "YS2026P01000123",
    "contract_type": "预售",
    "state": "已备案",
    "updated_at": "2026-03-20T09:30:00+08:00",
    "project": {"code": "P01", "name": "滨江悦府"},
    "house": {
        "house_id": "P01-03-2-1502",
        "building": "3栋",
        "unit": "2单元",
        "floor": 15,
        "room": "1502",
        "permit_no": "深房许字（2025）南山012号",
        "usage": "住宅",
        "building_area": "89.12",
        "inner_area": "70.01",
        "shared_area": "19.11",
    },
    "price": {"unit_price": "45000.00", "total_price": "4010400.00", "deposit": "50000.00"},
    "payment_method": "商贷",
    "subscription_no": "RG2026P01000045",
    "previous_contract_no": None,
    "planned_signing_on": None,
    "signed_at": "2026-03-12T14:03:00+08:00",
    "filed_at": "2026-03-20T09:30:00+08:00",
    "cancellation": None,
    "buyers": [
        {
            "name": "张三",
            "id_type": "身份证",
            "id_number": resident_id(),
            "phone": "13800138000",
            "share": "100.00",
            "is_primary": True,
        }
    ],
    "payment_plan": [
        {"seq": 1, "kind": "定金", "due_on": "2026-03-01", "amount": "50000.00", "bank": None},
        {"seq": 2, "kind": "首付", "due_on": "2026-03-19", "amount": "1153120.00", "bank": None},
        {"seq": 3, "kind": "按揭", "due_on": "2026-05-10", "amount": "2807280.00", "bank": "建设银行"},
    ],
    "history": [
        {"state": "待签", "at": "2026-03-10T11:00:00+08:00", "reason_code": None, "reason": None},
        {"state": "已签", "at": "2026-03-12T14:03:00+08:00", "reason_code": None, "reason": None},
        {"state": "已备案", "at": "2026-03-20T09:30:00+08:00", "reason_code": None, "reason": None},
    ],
    "handover": None,
    "registration": None,
}


def make_contract(contract_no: str = "YS2026P01000123", updated_at: str | None = None, **fields: Any) -> dict:
    """A valid detail contract; `updated_at` moves its last history entry too, `fields` replace keys."""
    contract = copy.deepcopy(DETAIL)
    contract["contract_no"] = contract_no
    if updated_at is not None:
        contract["updated_at"] = updated_at
        contract["history"][-1]["at"] = updated_at
    contract.update(copy.deepcopy(fields))
    return contract


def envelope(data: Any, code: int = 0, message: str = "ok") -> dict[str, Any]:
    return {"code": code, "message": message, "data": data}


def page(items: list[dict], next_token: str | None, page_size: int = 200) -> dict[str, Any]:
    return envelope({"items": items, "next_page_token": next_token, "page_size": page_size})


def add_login(mock: responses.RequestsMock, token: str = "tok-1", expires_in: int = 1800) -> None:
    mock.post(LOGIN_URL, json=envelope({"token": token, "expires_in": expires_in}))
