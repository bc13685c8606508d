"""A sync to kill: `python -m tests.sync.kill_target CASE WAREHOUSE_URL COUNT` syncs COUNT records of the
stream CASE (tests/support/sources.py) in batches of 7, slowly (each record takes a few milliseconds
to arrive), so that a test can SIGKILL it between batches."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from estatehub.pii import PiiHasher
from estatehub.settings import SyncSettings
from estatehub.warehouse.engine import Warehouse
from tests.conftest import TEST_PII_KEY
from tests.support.sources import CASES, Case

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
SETTINGS = SyncSettings(batch_size=7, look_back=timedelta(hours=1))
DELAY_S = 0.02


def records_of(case: Case, count: int) -> list[Any]:
    """The records the killed run and the re-run both see (a few keys twice, in two versions)."""
    records = [case.record(n, T0 + timedelta(minutes=n), "v1") for n in range(count)]
    records += [case.record(n, T0 + timedelta(minutes=count + n), "v2") for n in range(0, count, 9)]
    return records


class _Slow:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.code = client.code

    def _slow(self, records: Iterator[Any]) -> Iterator[Any]:
        for record in records:
            time.sleep(DELAY_S)
            yield record

    def iter_contracts(self, updated_since: datetime | None) -> Iterator[Any]:
        return self._slow(self.client.iter_contracts(updated_since))

    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[Any]:
        return self._slow(self.client.iter_loans(updated_since))

    def iter_form(self, form_id: str, *, modified_since: datetime | None = None) -> Iterator[Any]:
        return self._slow(self.client.iter_form(form_id, modified_since=modified_since))


def main(argv: list[str]) -> int:
    name, url, count = argv[0], argv[1], int(argv[2])
    case = CASES[name]
    warehouse = Warehouse.from_url(url, pii_key=TEST_PII_KEY)
    assert isinstance(warehouse.hasher, PiiHasher)
    case.sync(_Slow(case.client(records_of(case, count))), warehouse, settings=SETTINGS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
