"""What every connector yields besides its typed records: the record it could not accept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """A record (or a statement row, or a whole file) the connector could not accept: kept with the
    reason and the payload as received.

    `source` and `entity` say where it came from (`trading_network`/`contract`, `bank_icbc`/`loan`,
    `finance_ledger`/`GL_VOUCHER` …); `key` is the record's natural key when it could be read (the
    contract number, the row id), else None; `payload` is the JSON object when the record parsed as
    JSON, else its text; `updated_at` is its version when it could be read; `file_name` and `line_no`
    say where a row of a file came from.
    """

    source: str
    entity: str
    key: str | None
    reason: str
    payload: Any = field(repr=False)
    updated_at: datetime | None = None
    file_name: str | None = None
    line_no: int | None = None
