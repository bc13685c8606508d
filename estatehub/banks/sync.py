"""One bank's sync, as the Airflow tasks and `python -m estatehub sync banks` run it.

    sync_loans("icbc", warehouse)        loan stages (hourly)
    sync_statements("icbc", warehouse)   the statement files published since the last run (daily), then
                                         the bank's collection accounts and supervision records
    sync_landed_statements("icbc", warehouse, folder)   the files dropped into a landing folder, then the same

Each call builds the bank's client from its `bank_<code>` Connection, so a bank that is down or
misconfigured fails its own call only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from connectors.banks.client import BankClient
from estatehub.banks.connections import STATEMENT_BANKS, bank_client, download_folder
from estatehub.banks.loans import sync_bank_loans
from estatehub.banks.statements import load_folder, sync_bank_statements
from estatehub.banks.supervision import sync_bank_accounts, sync_bank_supervision
from estatehub.sealed import seal_folder
from estatehub.warehouse.engine import Warehouse

log = logging.getLogger(__name__)


def sync_loans(
    code: str, warehouse: Warehouse, *, full: bool = False, client: BankClient | None = None
) -> dict[str, Any]:
    """The loans of bank `code`; `client` is the bank's client (an Airflow task passes its hook's), else it
    is built from the `bank_<code>` Connection."""
    with client or bank_client(code, folder=download_folder(code)) as bank:
        result = sync_bank_loans(bank, warehouse, full=full).as_dict()
    folder = getattr(bank, "folder", None)  # the fund centre's loan lists hold borrowers' ID numbers
    if folder is not None:
        seal_folder(Path(folder), warehouse.hasher)
    return result


def sync_statements(
    code: str, warehouse: Warehouse, *, folder: Path | None = None, client: BankClient | None = None
) -> dict[str, Any]:
    """The statement files bank `code` published since the last run, then which of its accounts is
    supervised for which permit and its refund approvals and releases; `client` as for `sync_loans`."""
    if code not in STATEMENT_BANKS:
        return {"bank": code, "listed": 0, "note": "publishes no statements"}
    with client or bank_client(code) as bank:
        result = sync_bank_statements(bank, warehouse, folder or download_folder(code).parent).as_dict()
        result["accounts"] = sync_bank_accounts(bank, warehouse).as_dict()
        result["supervision"] = sync_bank_supervision(bank, warehouse).as_dict()
        return result


def sync_landed_statements(
    code: str, warehouse: Warehouse, landing: Path, *, client: BankClient | None = None
) -> dict[str, Any]:
    """The statement files dropped into the landing folder `landing` for bank `code` (`load_folder`: each
    sealed once read), then its accounts and supervision records as `sync_statements` does."""
    with client or bank_client(code) as bank:
        result = load_folder(warehouse, landing, bank=code).as_dict()
        result["accounts"] = sync_bank_accounts(bank, warehouse).as_dict()
        result["supervision"] = sync_bank_supervision(bank, warehouse).as_dict()
        return result
