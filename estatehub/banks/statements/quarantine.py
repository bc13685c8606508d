"""What a statement load keeps of what it could not load: rows and reasons, account-like runs masked.

A quarantined row and its reason are kept with every account-like run of digits masked as the
counterparty account is (`6217***********3333`), and ID numbers and phones redacted, as in every payload.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from connectors.banks.records import QuarantineItem
from connectors.identity import mask_account
from estatehub.pii import PiiHasher
from estatehub.warehouse.etl import Received, quarantine_rows, utcnow
from estatehub.warehouse.redact import redact_text

# 12 or more digits in a row, or in groups of four split by single spaces or dashes
# (`6217 0000 1111 2222`); a run of exactly 18 is left to the ID-number redaction of `Received.of`
_ACCOUNT_RUN = re.compile(r"(?<![\d*])(?:\d{12,}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?)(?![\d*])")


def mask_account_runs(value: Any) -> Any:
    """`value` (a row's text, cells or object) with every account-like run of digits masked."""
    if isinstance(value, str):
        return _ACCOUNT_RUN.sub(
            lambda match: match.group(0) if len(match.group(0)) == 18 else mask_account(match.group(0)), value
        )
    if isinstance(value, list | tuple):
        return [mask_account_runs(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_account_runs(item) for key, item in value.items()}
    return value


def masked_reason(hasher: PiiHasher, reason: str) -> str:
    """A reason fit to store and show: it may quote a cell of the row."""
    return redact_text(hasher, mask_account_runs(reason))


def quarantine_items(hasher: PiiHasher, bank: str, items: Iterable[QuarantineItem], run_id: str) -> list[dict]:
    """The `etl_quarantine` rows of `items` (rows of a file, or a whole file), masked."""
    received = [
        Received.of(
            hasher,
            source=f"bank_{bank}",
            entity=item.entity,
            record_key=f"{item.file_name}:{item.line_no}" if item.line_no is not None else item.file_name,
            payload={"file_name": item.file_name, "line_no": item.line_no, "row": mask_account_runs(item.payload)},
            reason=masked_reason(hasher, item.reason),
        )
        for item in items
    ]
    return quarantine_rows(hasher, received, run_id=run_id, seen_at=utcnow())
