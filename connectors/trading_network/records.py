"""Typed records of the housing trading network, as the connector yields them.

Money is `Decimal` yuan, areas `Decimal` m², times timezone-aware UTC `datetime`, dates `date`
(business dates in Asia/Shanghai as the network writes them). ID numbers and phones are carried in full
only inside these records, between the connector and the warehouse loader, which hashes and masks them;
`__repr__` never shows them.

Every record keeps `payload`: the JSON object exactly as received, for the warehouse's raw layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.records import QuarantineItem  # noqa: F401 - what this connector yields besides its records

CONTRACT_TYPES = ("认购", "预售", "现售")
CONTRACT_STATES = ("待签", "已签", "已备案", "变更", "已领证", "撤销")
CANCEL_REASONS = ("资金问题", "输入错误", "换房退房", "增减权益人", "楼盘表调整", "其他")
PAYMENT_METHODS = ("一次性", "分期", "商贷", "公积金", "组合")
PLAN_KINDS = ("定金", "首付", "分期", "按揭", "公积金", "一次性", "补差")
REGISTRATION_STATUSES = ("办理中", "已领证")
ID_TYPES = ("身份证", "统一社会信用代码", "护照")

SOURCE = "trading_network"


@dataclass(frozen=True, slots=True)
class House:
    house_id: str
    project_code: str
    project_name: str
    building: str
    unit: str
    floor: int
    room: str
    permit_no: str | None
    usage: str | None
    building_area: Decimal
    inner_area: Decimal | None
    shared_area: Decimal | None


@dataclass(frozen=True, slots=True)
class Buyer:
    """One buyer of a contract. `id_number` is normalised (`identity.validate_identifier`: spaces dropped,
    full-width characters made ASCII, upper case) and `phone` is the 11 digits (`identity.validate_phone`):
    the hub hashes and masks them as they are, without normalising again (decision 0033)."""

    name: str
    id_type: str
    id_number: str = field(repr=False)
    phone: str | None = field(repr=False)
    share: Decimal | None
    is_primary: bool

    @property
    def is_company(self) -> bool:
        return self.id_type == "统一社会信用代码"


@dataclass(frozen=True, slots=True)
class PlanItem:
    seq: int
    kind: str
    due_on: date | None
    amount: Decimal
    bank: str | None


@dataclass(frozen=True, slots=True)
class StateChange:
    state: str
    at: datetime
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Cancellation:
    cancelled_at: datetime
    reason_code: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Handover:
    handed_over_on: date
    as_built_area: Decimal
    area_diff_amount: Decimal


@dataclass(frozen=True, slots=True)
class Registration:
    status: str
    applied_on: date | None
    registered_on: date | None
    certificate_no: str | None


@dataclass(frozen=True, slots=True)
class Contract:
    """One contract as the network shows it now, with its whole state history."""

    contract_no: str
    contract_type: str
    state: str
    updated_at: datetime
    house: House
    unit_price: Decimal
    total_price: Decimal
    deposit: Decimal | None
    payment_method: str | None
    refund_days: int | None  # the contract's refund term: days from a cancellation to the refund (15 or 30)
    subscription_no: str | None
    previous_contract_no: str | None
    planned_signing_on: date | None
    signed_at: datetime | None
    filed_at: datetime | None
    cancellation: Cancellation | None
    buyers: tuple[Buyer, ...]
    payment_plan: tuple[PlanItem, ...]
    history: tuple[StateChange, ...]
    handover: Handover | None
    registration: Registration | None
    payload: dict[str, Any] = field(repr=False, compare=False)
    # the delivery date the contract names (交付), and the days it gives to register the property right
    # after handover (现售: after signing); None where the network shows none
    delivery_on: date | None = None
    registration_days: int | None = None


@dataclass(frozen=True, slots=True)
class ContractSummary:
    """One row of the contract-list Excel export (no history, no plan; ID numbers already masked)."""

    contract_no: str
    contract_type: str
    state: str
    project_name: str
    house_id: str
    building: str
    unit: str
    floor: int
    room: str
    building_area: Decimal
    inner_area: Decimal | None
    unit_price: Decimal
    total_price: Decimal
    payment_method: str | None
    signed_at: datetime | None
    filed_at: datetime | None
    buyer_names: tuple[str, ...]
    buyer_ids_masked: tuple[str, ...]
    updated_at: datetime
    payload: dict[str, Any] = field(repr=False, compare=False)


SALE_STATES = ("可售", "已签", "已备案", "限制", "不可售")
PERMIT_ENTITY = "permit"
INVENTORY_ENTITY = "inventory_unit"


@dataclass(frozen=True, slots=True)
class Permit:
    """A pre-sale / sale permit (预售许可证 / 现售备案) as the permit listing shows it."""

    permit_no: str
    project_code: str
    project_name: str
    building: str | None
    unit_count: int | None
    payload: Any = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class InventoryUnit:
    """One row of a permit's building table (楼盘表): a unit with its 备案价 and sale state.

    `key` (permit number and unit code) is how the network names the row; `house_id` is the same
    房屋编号 the contracts carry; `realty_unit_no` the 28-character 不动产单元号 where the network has one.
    """

    permit_no: str
    unit_code: str
    house_id: str | None
    realty_unit_no: str | None
    building: str
    unit: str | None
    floor: int
    room: str
    usage: str
    building_area: Decimal
    inner_area: Decimal | None
    record_unit_price: Decimal | None
    record_total_price: Decimal
    sale_state: str
    restriction: str | None
    updated_at: datetime
    payload: Any = field(repr=False, compare=False)
    project_code: str | None = None  # from the permit listing (`iter_inventory`), not the row
    project_name: str | None = None

    @property
    def key(self) -> str:
        return inventory_key(self.permit_no, self.unit_code)


def inventory_key(permit_no: str, unit_code: str) -> str:
    """The record key of a building-table row: `<permit_no>|<unit_code>`."""
    return f"{permit_no}|{unit_code}"
