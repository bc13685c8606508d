"""Errors of the warehouse.

WarehouseError
├── PiiKeyMismatch       the PII hash key is not the one the warehouse was built with
└── MigrationError       the schema cannot be brought to the wanted revision
"""

from __future__ import annotations


class WarehouseError(Exception):
    """Root of the warehouse's errors."""


class PiiKeyMismatch(WarehouseError):
    """The PII hash key differs from the one whose fingerprint the warehouse recorded."""


class MigrationError(WarehouseError):
    """The schema cannot be brought to the wanted revision."""
