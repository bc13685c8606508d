"""The banks' collection accounts and supervision records, as two streams of the one runner.

    sync_bank_accounts(client, warehouse)       → core_bank_account (every account the bank lists)
    sync_bank_supervision(client, warehouse)    → core_bank_supervision (refund approvals, releases)

The account list has no change time: each run lists every account and versions it by the moment of
the listing, so a changed account (a permit's key-supervision amount) replaces the stored one. The
supervision records are versioned by their approval time; an incremental run asks the bank for the
days from the cursor's (minus the look-back) to today. Both streams keep their cursor per bank
(`etl_sync_state` source `bank_<code>`, streams `accounts` and `supervision`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from connectors.banks.records import CollectionAccount, QuarantineItem, SupervisionRecord
from estatehub.banks.loans import source_of
from estatehub.banks.tables import core_bank_account, core_bank_supervision
from estatehub.pii import PiiHasher
from estatehub.settings import BANK_LOANS_SYNC, BUSINESS_TZ, SyncSettings
from estatehub.sync.runs import SyncResult
from estatehub.sync.stream import Batch, Stream, run_stream
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import stage_newest
from estatehub.warehouse.types import to_fen

FIRST_DAY = date(2000, 1, 1)  # a first run asks for every record since


class SupervisionSource(Protocol):
    """What these streams need of a bank client (`connectors.banks.client.BankClient`)."""

    code: str

    def iter_accounts(self) -> Iterator[CollectionAccount | QuarantineItem]: ...

    def iter_supervision(self, date_from: date, date_to: date) -> Iterator[SupervisionRecord | QuarantineItem]: ...


class AccountStream(Stream[CollectionAccount, dict[str, Any]]):
    name = "accounts"
    entity = "account"
    record_type = CollectionAccount

    def __init__(self, client: SupervisionSource, *, listed_at: datetime | None = None) -> None:
        self.client = client
        self.source = source_of(client.code)
        self.listed_at = listed_at or datetime.now(UTC).replace(microsecond=0)

    def fetch(self, since: datetime | None) -> Iterator[CollectionAccount | QuarantineItem]:
        return self.client.iter_accounts()

    def key(self, record: CollectionAccount) -> str:
        return record.account_no

    def version(self, record: CollectionAccount) -> datetime:
        return self.listed_at

    def stage(self, record: CollectionAccount, *, payload_hash: str, hasher: PiiHasher) -> dict[str, Any]:
        return {
            "bank": record.bank,
            "account_no": record.account_no,
            "account_type": record.account_type,
            "account_name": record.account_name,
            "permit_no": record.permit_no,
            "project_name": record.project_name,
            "building": record.building,
            "key_supervision_fen": to_fen(record.key_supervision_amount),
            "listed_at": self.listed_at,
            "payload_hash": payload_hash,
        }

    def write(self, conn: Connection, staged: list[dict[str, Any]], batch: Batch) -> int:
        keys = ["bank", "account_no"]
        return len(
            stage_newest(
                conn,
                core_bank_account,
                keys,
                staged,
                version="listed_at",
                batch_id=batch.batch_id,
                constants=batch.stamp,
            )
        )


class SupervisionStream(Stream[SupervisionRecord, dict[str, Any]]):
    name = "supervision"
    entity = "supervision_record"
    record_type = SupervisionRecord

    def __init__(self, client: SupervisionSource, *, today: date | None = None) -> None:
        self.client = client
        self.source = source_of(client.code)
        self.today = today or datetime.now(BUSINESS_TZ).date()

    def fetch(self, since: datetime | None) -> Iterator[SupervisionRecord | QuarantineItem]:
        first = since.astimezone(BUSINESS_TZ).date() if since is not None else FIRST_DAY
        return self.client.iter_supervision(first, max(first, self.today))

    def key(self, record: SupervisionRecord) -> str:
        return record.record_no

    def version(self, record: SupervisionRecord) -> datetime:
        return record.approved_at

    def stage(self, record: SupervisionRecord, *, payload_hash: str, hasher: PiiHasher) -> dict[str, Any]:
        return {
            "bank": record.bank,
            "record_no": record.record_no,
            "record_type": record.record_type,
            "account_no": record.account_no,
            "counter_account_no": record.counter_account_no,
            "permit_no": record.permit_no,
            "contract_no": record.contract_no,
            "milestone": record.milestone,
            "amount_fen": to_fen(record.amount),
            "allowed_fen": to_fen(record.allowed_amount),
            "retained_fen": to_fen(record.retained_amount),
            "approved_at": record.approved_at,
            "approved_on": record.approved_at.astimezone(BUSINESS_TZ).date(),
            "payload_hash": payload_hash,
        }

    def write(self, conn: Connection, staged: list[dict[str, Any]], batch: Batch) -> int:
        keys = ["bank", "record_no"]
        accepted = stage_newest(
            conn,
            core_bank_supervision,
            keys,
            staged,
            version="approved_at",
            batch_id=batch.batch_id,
            constants=batch.stamp,
        )
        return len(accepted)


def sync_bank_accounts(
    client: SupervisionSource, warehouse: Warehouse, *, settings: SyncSettings = BANK_LOANS_SYNC, **options: Any
) -> SyncResult:
    """Every collection account the bank lists, into `core_bank_account`."""
    return run_stream(AccountStream(client), warehouse, settings=settings, **options)


def sync_bank_supervision(
    client: SupervisionSource,
    warehouse: Warehouse,
    *,
    settings: SyncSettings = BANK_LOANS_SYNC,
    today: date | None = None,
    **options: Any,
) -> SyncResult:
    """The bank's refund approvals and releases since the last run, into `core_bank_supervision`."""
    return run_stream(SupervisionStream(client, today=today), warehouse, settings=settings, **options)
