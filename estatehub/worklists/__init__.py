"""The specialists' and supervisors' work lists: one list per process, built into the mart after the
daily reconciliation, and a daily digest (HTML email and workbook) to each person with their items.

    report = build_work_lists(warehouse, day)                    # mart_work_item, as of `day`
    send_digests(warehouse, day, load_assignees(), send=...)     # one email per person
    run_daily(warehouse, day, send=..., out=folder)              # both: what the DAG and the demo do

See docs/decisions/0019-work-lists.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from estatehub.reconcile.city import CityRules
from estatehub.warehouse.engine import Warehouse
from estatehub.worklists.assignees import Assignees, AssigneesError, Person, load_assignees
from estatehub.worklists.build import BuildReport, NoReconciliationYet, build_work_lists, latest_reconciled_day
from estatehub.worklists.digest import NoWorkLists, build_digests, send_digests, write_digests
from estatehub.worklists.lists import LISTS, Item


@dataclass(frozen=True)
class DailyResult:
    build: BuildReport
    sent: list[str]  # the ids of the persons a digest went to (empty when not sent)
    files: list[Path]  # the digests written to `out`

    def summary(self) -> str:
        lines = [self.build.summary()]
        if self.sent:
            lines.append(f"digests sent to {len(self.sent)} persons: {', '.join(self.sent)}")
        if self.files:
            lines.append(f"digests written to {self.files[0].parent} ({len(self.files)} files)")
        return "\n".join(lines)


def run_daily(
    warehouse: Warehouse,
    day: date | None = None,
    *,
    assignees: Assignees | None = None,
    city: CityRules | None = None,
    send: Callable[[EmailMessage], Any] | None = None,
    out: Path | None = None,
) -> DailyResult:
    """Build the work lists as of `day` (by default the day the latest reconciliation judged), then
    send each person their digest through `send` (None: do not send) and/or write them to `out`."""
    day = day or latest_reconciled_day(warehouse)
    assignees = assignees or load_assignees()
    report = build_work_lists(warehouse, day, city=city)
    sent: list[str] = []
    files: list[Path] = []
    if send is not None:
        sent = send_digests(warehouse, day, assignees, send=send, out=out)
        if out is not None:
            files = sorted(out.glob(f"digest_{day}_*"))
    elif out is not None:
        files = write_digests(build_digests(warehouse, day, assignees), out)
    return DailyResult(report, sent, files)


__all__ = [
    "LISTS",
    "Assignees",
    "AssigneesError",
    "BuildReport",
    "DailyResult",
    "Item",
    "NoReconciliationYet",
    "NoWorkLists",
    "Person",
    "build_digests",
    "build_work_lists",
    "latest_reconciled_day",
    "load_assignees",
    "run_daily",
    "send_digests",
    "write_digests",
]
