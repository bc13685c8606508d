"""Every stream of every source, as the stream-runner tests need it: synthetic records of any key,
version and content, a fake client that serves them as the real API would, the sync to run, and where
the warehouse keeps each record's staged version and its core row.

    case = CASES["bank_loans"]
    records = [case.record(n, at, "new") for n in range(20)]
    case.sync(FakeSourceClient(records), warehouse, settings=settings)
    case.staged(warehouse)   # {key: (version, label)} of the staging table
    case.core(warehouse)     # {key: label} of the core table

A record's `label` is a piece of text the source stores in staging and core (a payment method, a
branch, a memo), so a test can tell which version of a record the warehouse holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select

from connectors.banks.records import Loan, StageEvent
from connectors.ledger.records import Invoice, Receipt, Refund, VoucherLine
from connectors.records import QuarantineItem
from connectors.trading_network.records import Contract
from estatehub.banks import tables as bank_tables
from estatehub.banks.loans import LoanStream, sync_bank_loans
from estatehub.ledger import tables as ledger_tables
from estatehub.ledger.load import INVOICE, RECEIPT, REFUND, VOUCHER, FormStream
from estatehub.ledger.sync import sync_ledger
from estatehub.sync.stream import Stream
from estatehub.trading_network import tables as tn_tables
from estatehub.trading_network.load import ContractStream
from estatehub.trading_network.sync import sync_trading_network
from estatehub.warehouse.engine import Warehouse
from tests.support.trading_network_fakes import detail_of, person_id_number, synthetic_contract

BANK = "icbc"
CONTRACT_AT = datetime(2026, 5, 1, tzinfo=UTC)  # every synthetic contract exists by then


class FakeSourceClient:
    """Serves a fixed list of records as every source's API does: those changed at or after `since`,
    ordered by (version, key). Records each call's `since` in `calls`."""

    code = BANK

    def __init__(self, records: list[Any], version: Callable[[Any], datetime], key: Callable[[Any], Any]) -> None:
        self.records = sorted(records, key=lambda r: (version(r), str(key(r))))
        self.version = version
        self.calls: list[datetime | None] = []
        self.detail_calls: list[str] = []
        # what the listing shows (default: every record); a test may hide a record from the listing
        # while its detail still answers
        self.listed: Callable[[datetime | None], list[Any]] = lambda since: self.records

    def _since(self, since: datetime | None) -> Iterator[Any]:
        self.calls.append(since)
        return iter([r for r in self.listed(since) if since is None or self.version(r) >= since])

    def iter_contracts(self, updated_since: datetime | None) -> Iterator[Any]:
        return self._since(updated_since)

    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[Any]:
        return self._since(updated_since)

    def iter_form(self, form_id: str, *, modified_since: datetime | None = None) -> Iterator[Any]:
        return self._since(modified_since)

    def get_contract(self, contract_no: str) -> Any:
        self.detail_calls.append(contract_no)
        return detail_of(self.records, contract_no)

    def iter_rows(self, form_id: str, ids: list[int]) -> Iterator[Any]:
        self.detail_calls.extend(str(number) for number in ids)
        wanted = {str(number) for number in ids}
        newest: dict[str, Any] = {}
        for record in self.records:  # in version order: the last one of a key is its newest
            if str(record.key) in wanted:
                newest[str(record.key)] = record
        return iter(newest.values())


@dataclass(frozen=True)
class Case:
    """One stream of one source."""

    name: str
    stream_class: type[Stream]
    source: str
    stream: str
    record: Callable[[int, datetime, str], Any]  # (n, version, label) → a typed record of key n
    sync: Callable[..., Any]  # (client, warehouse, *, settings, full, run_id) → result of the stream
    staging: Table
    staging_key: str
    staging_version: str
    staging_label: str
    core_table: Table
    core_key: str
    core_label: str

    def key(self, record: Any) -> str:
        return str(
            record.contract_no if isinstance(record, Contract) else getattr(record, "loan_no", None) or record.key
        )

    def version(self, record: Any) -> datetime:
        return record.updated_at if isinstance(record, Contract | Loan | QuarantineItem) else record.modified_at

    def entity(self) -> str:
        return {"trading_network": "contract", "bank_loans": "loan"}.get(self.name) or {
            "ledger_vouchers": VOUCHER,
            "ledger_receipts": RECEIPT,
            "ledger_refunds": REFUND,
            "ledger_invoices": INVOICE,
        }[self.name]

    def bad(self, n: int, at: datetime) -> QuarantineItem:
        """A record of key n the connector could not read (as it would quarantine it)."""
        key = self.key(self.record(n, at, "bad"))
        return QuarantineItem(self.source, self.entity(), key, "expected a readable record, got garbage", {"n": n}, at)

    @property
    def can_refetch(self) -> bool:
        return self.name != "bank_loans"  # the banks' APIs have no detail by loan number

    def client(self, records: list[Any]) -> FakeSourceClient:
        return FakeSourceClient(records, self.version, self.key)

    def staged(self, warehouse: Warehouse) -> dict[str, tuple[datetime, str]]:
        t = self.staging.c
        with warehouse.engine.connect() as conn:
            rows = conn.execute(select(t[self.staging_key], t[self.staging_version], t[self.staging_label])).all()
        return {str(key): (version, label) for key, version, label in rows}

    def core(self, warehouse: Warehouse) -> dict[str, str]:
        t = self.core_table.c
        with warehouse.engine.connect() as conn:
            rows = conn.execute(select(t[self.core_key], t[self.core_label])).all()
        return {str(key): label for key, label in rows}


def _contract(n: int, at: datetime, label: str) -> Any:
    contract = synthetic_contract(n, CONTRACT_AT)
    payload = {**contract.payload, "updated_at": at.isoformat(), "payment_method": label}
    return dataclasses.replace(contract, updated_at=at, payment_method=label, payload=payload)


def _loan(n: int, at: datetime, label: str) -> Loan:
    payload = {"loanNo": f"L{n:06d}", "stage": "已递交", "branch": label, "updatedAt": at.isoformat()}
    return Loan(
        bank=BANK,
        loan_no=f"L{n:06d}",
        loan_type="商业贷款",
        stage="已递交",
        stages=(StageEvent("资料收齐", at), StageEvent("已递交", at)),
        contract_no=None,
        borrower_name="张三",
        borrower_id_type="身份证",
        borrower_id_number=person_id_number(n),
        house_id=None,
        property_address=None,
        branch=label,
        applied_amount=Decimal("1000000.00"),
        approved_amount=None,
        disbursed_amount=None,
        applied_on=date(2026, 4, 1),
        approved_on=None,
        disbursed_on=None,
        updated_at=at,
        payload=payload,
    )


def _status(at: datetime) -> dict[str, Any]:
    return {"is_audited": True, "is_voided": False, "created_at": datetime(2026, 4, 1, tzinfo=UTC), "modified_at": at}


def _voucher_line(n: int, at: datetime, label: str) -> VoucherLine:
    return VoucherLine(
        voucher_id=n,
        voucher_group="记",
        voucher_number=n,
        year=2026,
        period=4,
        voucher_on=date(2026, 4, 2),
        source_bill_no=None,
        entry_id=n,
        seq=1,
        memo=label,
        account_no="1002.01",
        account_name="银行存款",
        bank_account_no="4000021209200123456",
        debit=Decimal("1000.00"),
        credit=Decimal("0"),
        customer_code=None,
        customer_name=None,
        phase_code=None,
        phase_name=None,
        payload={"FEntryID": n, "FExplanation": label, "FModifyDate": at.isoformat()},
        **_status(at),
    )


def _receipt(n: int, at: datetime, label: str) -> Receipt:
    return Receipt(
        bill_id=n,
        bill_no=f"SKD{n:06d}",
        receipt_on=date(2026, 4, 2),
        customer_code="C001",
        customer_name="张三",
        payer="张三",
        settle_type="电汇",
        purpose="房款",
        bank_account_no="4000023009200123456",
        bank_account_name="监管户",
        amount=Decimal("1000.00"),
        remark=label,
        phase_code=None,
        phase_name=None,
        payload={"FID": n, "FRemark": label, "FModifyDate": at.isoformat()},
        **_status(at),
    )


def _refund(n: int, at: datetime, label: str) -> Refund:
    return Refund(
        bill_id=n,
        bill_no=f"TKD{n:06d}",
        refund_on=date(2026, 4, 2),
        customer_code="C001",
        customer_name="张三",
        payee="张三",
        bank_account_no="4000023009200123456",
        bank_account_name="监管户",
        amount=Decimal("1000.00"),
        remark=label,
        phase_code=None,
        phase_name=None,
        payload={"FID": n, "FRemark": label, "FModifyDate": at.isoformat()},
        **_status(at),
    )


def _invoice(n: int, at: datetime, label: str) -> Invoice:
    return Invoice(
        invoice_id=n,
        bill_no=f"FP{n:06d}",
        invoice_type="增值税普通发票",
        invoice_no=f"{n:08d}",
        invoice_on=date(2026, 4, 2),
        customer_code="C001",
        customer_name="张三",
        tax_code="6020000000000000000",
        tax_rate=Decimal("0"),
        amount=Decimal("1000.00"),
        tax_amount=Decimal("0"),
        is_red=False,
        blue_invoice_no=None,
        source_bill_no=None,
        remark=label,
        phase_code=None,
        phase_name=None,
        payload={"FID": n, "FRemark": label, "FModifyDate": at.isoformat()},
        **_status(at),
    )


def _ledger_sync(form: str) -> Callable[..., Any]:
    def sync(client: Any, warehouse: Warehouse, **options: Any) -> Any:
        run_id = options.pop("run_id", None)
        result = sync_ledger(client, warehouse, forms=(form,), run_id=run_id, **options)
        return next(iter(result.streams.values()))

    return sync


def _contracts_sync(client: Any, warehouse: Warehouse, **options: Any) -> Any:
    return sync_trading_network(client, warehouse, **options)


def _loans_sync(client: Any, warehouse: Warehouse, **options: Any) -> Any:
    options.pop("read_ahead", None)
    return sync_bank_loans(client, warehouse, **options)


L = ledger_tables
CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case(
            "trading_network",
            ContractStream,
            "trading_network",
            "contracts",
            _contract,
            _contracts_sync,
            tn_tables.stg_tn_contract,
            "contract_no",
            "updated_at",
            "payment_method",
            tn_tables.core_contract,
            "contract_no",
            "payment_method",
        ),
        Case(
            "bank_loans",
            LoanStream,
            f"bank_{BANK}",
            "loans",
            _loan,
            _loans_sync,
            bank_tables.stg_bank_loan,
            "loan_no",
            "updated_at",
            "branch",
            bank_tables.core_bank_loan,
            "loan_no",
            "branch",
        ),
        Case(
            "ledger_vouchers",
            FormStream,
            "finance_ledger",
            "vouchers",
            _voucher_line,
            _ledger_sync(VOUCHER),
            L.stg_fl_voucher_line,
            "entry_id",
            "modified_at",
            "memo",
            L.core_voucher_line,
            "entry_id",
            "memo",
        ),
        Case(
            "ledger_receipts",
            FormStream,
            "finance_ledger",
            "receipts",
            _receipt,
            _ledger_sync(RECEIPT),
            L.stg_fl_receipt,
            "bill_id",
            "modified_at",
            "remark",
            L.core_receipt,
            "bill_id",
            "remark",
        ),
        Case(
            "ledger_refunds",
            FormStream,
            "finance_ledger",
            "refunds",
            _refund,
            _ledger_sync(REFUND),
            L.stg_fl_refund,
            "bill_id",
            "modified_at",
            "remark",
            L.core_refund,
            "bill_id",
            "remark",
        ),
        Case(
            "ledger_invoices",
            FormStream,
            "finance_ledger",
            "invoices",
            _invoice,
            _ledger_sync(INVOICE),
            L.stg_fl_invoice,
            "invoice_id",
            "modified_at",
            "remark",
            L.core_invoice,
            "invoice_id",
            "remark",
        ),
    )
}
