"""What every sync job shares: the result of a run, run ids, the quarantine threshold."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from estatehub.settings import SyncSettings
from estatehub.sync.errors import QuarantineThresholdExceeded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    """What one sync run did. `cursor` is the stream's cursor after the run."""

    run_id: str
    mode: str  # full | incremental
    since: datetime | None
    fetched: int
    loaded: int
    quarantined: int
    cursor: datetime | None
    batches: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the run record and the log."""
        rate = self.fetched / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.mode} run {self.run_id}: fetched {self.fetched}, loaded {self.loaded}, "
            f"quarantined {self.quarantined} in {self.batches} batches, {self.seconds:.1f} s "
            f"({rate:.0f} records/s); cursor {self.cursor.isoformat() if self.cursor else None}"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601 strings): what the Airflow task returns as its XCom."""
        data = asdict(self)
        for name in ("since", "cursor"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        data["seconds"] = round(self.seconds, 3)
        return data


def new_run_id(source: str) -> str:
    return f"{source}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def check_quarantine_threshold(result: SyncResult, settings: SyncSettings) -> None:
    """Raise `QuarantineThresholdExceeded` when the run's share of bad records is above the threshold
    (runs of fewer than `quarantine_min_records` records never fail on the threshold alone)."""
    if result.fetched < settings.quarantine_min_records or result.fetched == 0:
        return
    share = result.quarantined / result.fetched
    if share > settings.quarantine_threshold:
        raise QuarantineThresholdExceeded(
            f"run {result.run_id} quarantined {result.quarantined} of {result.fetched} records ({share:.1%}), "
            f"more than the threshold of {settings.quarantine_threshold:.1%}; the {result.loaded} good records "
            f"are loaded. See etl_quarantine where last_run_id = '{result.run_id}' for the reasons, fix the source "
            f"(or raise SyncSettings.quarantine_threshold if this share is expected), then run again.",
            result=result,
            threshold=settings.quarantine_threshold,
        )
