"""Build the work lists of a day into the mart, replacing the previous build in one transaction.

    report = build_work_lists(warehouse, date(2026, 6, 30))

The mart holds the lists of the latest build only: an item the data says is done is not in it any
more. Building the same day again gives the same rows; the day an item was first listed survives
rebuilds (`first_listed_on`), so a digest can say what is new.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from estatehub.reconcile.city import CityRules, load_city_rules
from estatehub.reconcile.tables import rec_run
from estatehub.settings import WORK_LISTS, WorkListSettings
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import utcnow
from estatehub.worklists.lists import LISTS, Item, collect
from estatehub.worklists.tables import mart_work_item, mart_work_list_build

log = logging.getLogger(__name__)


class NoReconciliationYet(LookupError):
    """No reconciliation has run: the lists that read its results would be empty, not done."""


@dataclass(frozen=True)
class BuildReport:
    build_id: str
    as_of: date
    counts: dict[str, int]  # list → items
    late: dict[str, int]  # list → items past their deadline
    new: int  # items first listed on this day
    unjudged: tuple[str, ...] = ()  # what a list could not judge (data missing)

    def summary(self) -> str:
        lines = [f"work lists {self.build_id} as of {self.as_of}: {sum(self.counts.values())} items, {self.new} new"]
        lines += [f"  {name:22} {self.counts[name]:5} ({self.late[name]} late)" for name in LISTS]
        lines += [f"  not judged: {note}" for note in self.unjudged]
        return "\n".join(lines)


def latest_reconciled_day(warehouse: Warehouse) -> date:
    """The day the latest successful reconciliation judged: the day the work lists are built as of."""
    with warehouse.engine.connect() as conn:
        day = conn.execute(
            select(rec_run.c.as_of_on)
            .where(rec_run.c.status == "succeeded")
            .order_by(rec_run.c.finished_at.desc(), rec_run.c.run_id.desc())
            .limit(1)
        ).scalar_one_or_none()
    if day is None:
        raise NoReconciliationYet("no reconciliation has succeeded yet: run `estatehub reconcile` first")
    return day


def build_work_lists(
    warehouse: Warehouse,
    as_of: date,
    *,
    city: CityRules | None = None,
    settings: WorkListSettings = WORK_LISTS,
) -> BuildReport:
    city = city or load_city_rules()
    build_id = f"wl-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    with warehouse.engine.begin() as conn:
        unjudged: list[str] = []
        items = collect(conn, as_of=as_of, city=city, settings=settings, unjudged=unjudged)
        rows = _rows(conn, items, as_of=as_of, build_id=build_id)
        conn.execute(delete(mart_work_item))
        if rows:
            conn.execute(insert(mart_work_item), rows)
        counts = {name: 0 for name in LISTS}
        late = {name: 0 for name in LISTS}
        for row in rows:
            counts[row["list_name"]] += 1
            late[row["list_name"]] += row["days_left"] < 0
        conn.execute(
            insert(mart_work_list_build).values(
                build_id=build_id,
                as_of_on=as_of,
                built_at=utcnow(),
                item_count=len(rows),
                counts=json.dumps(counts, sort_keys=True),
            )
        )
    new = sum(1 for r in rows if r["first_listed_on"] == as_of)
    report = BuildReport(build_id, as_of, counts, late, new, tuple(unjudged))
    log.info("%s", report.summary())
    for note in unjudged:
        log.warning("work lists as of %s: %s", as_of, note)
    return report


def _rows(conn: Connection, items: list[Item], *, as_of: date, build_id: str) -> list[dict[str, Any]]:
    w = mart_work_item.c
    first = {
        (r.list_name, r.item_key): r.first_listed_on
        for r in conn.execute(select(w.list_name, w.item_key, w.first_listed_on))
    }
    rows = []
    for item in items:
        before = first.get((item.list_name, item.item_key))
        rows.append(
            {
                "list_name": item.list_name,
                "item_key": item.item_key,
                "project_code": item.project_code,
                "contract_no": item.contract_no,
                "house_id": item.house_id,
                "buyer_masked": item.buyer_masked,
                "phone_masked": item.phone_masked,
                "what": item.what,
                "amount_fen": item.amount_fen,
                "since_on": item.since_on,
                "deadline_on": item.deadline_on,
                "days_left": (item.deadline_on - as_of).days,
                "detail": item.detail,
                "first_listed_on": min(before, as_of) if before else as_of,
                "as_of_on": as_of,
                "build_id": build_id,
            }
        )
    return rows
