"""The housing trading network (网签备案系统), developer side: client, records, parsing, errors."""

from connectors.trading_network.client import Page, TradingNetworkClient
from connectors.trading_network.errors import (
    AuthError,
    BadRecord,
    ContractNotFound,
    ExportFormatError,
    FatalHTTPError,
    PaginationError,
    RateLimited,
    RetriableError,
    TradingNetworkError,
    UnexpectedResponse,
)
from connectors.trading_network.export import read_contract_export
from connectors.trading_network.inventory import parse_inventory_unit, parse_permit
from connectors.trading_network.parse import parse_contract
from connectors.trading_network.records import (
    Buyer,
    Cancellation,
    Contract,
    ContractSummary,
    Handover,
    House,
    InventoryUnit,
    Permit,
    PlanItem,
    QuarantineItem,
    Registration,
    StateChange,
)

__all__ = [
    "AuthError",
    "BadRecord",
    "Buyer",
    "Cancellation",
    "Contract",
    "ContractNotFound",
    "ContractSummary",
    "ExportFormatError",
    "FatalHTTPError",
    "Handover",
    "House",
    "InventoryUnit",
    "Page",
    "PaginationError",
    "Permit",
    "PlanItem",
    "QuarantineItem",
    "RateLimited",
    "Registration",
    "RetriableError",
    "StateChange",
    "TradingNetworkClient",
    "TradingNetworkError",
    "UnexpectedResponse",
    "parse_contract",
    "parse_inventory_unit",
    "parse_permit",
    "read_contract_export",
]
