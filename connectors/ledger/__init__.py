"""The finance ledger (Kingdee K/3 Cloud style ERP): vouchers, receipt and refund bills, invoices.

Plain Python on requests; no Airflow, no environment. `LedgerClient` yields typed records
(`connectors.ledger.records`) or quarantine items for rows it cannot read.
"""

from connectors.ledger.client import LedgerClient, beijing_text
from connectors.ledger.errors import (
    AuthError,
    FatalHTTPError,
    LedgerError,
    PaginationError,
    QueryError,
    RateLimited,
    RetriableError,
    UnexpectedResponse,
)
from connectors.ledger.records import SOURCE, Invoice, QuarantineItem, Receipt, Refund, VoucherLine

__all__ = [
    "SOURCE",
    "AuthError",
    "FatalHTTPError",
    "Invoice",
    "LedgerClient",
    "LedgerError",
    "PaginationError",
    "QuarantineItem",
    "QueryError",
    "RateLimited",
    "Receipt",
    "Refund",
    "RetriableError",
    "UnexpectedResponse",
    "VoucherLine",
    "beijing_text",
]
