"""Each KPI, computed by the hub from its warehouse, equals the same KPI counted independently from the
sandbox world's own files (its contract documents, its ground truth, the ledger's receipts and links,
the banks' loans), for every window of a weekly and a monthly report (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from estatehub.kpi.compute import compute
from estatehub.kpi.periods import Window, report_period, windows
from sandbox.world import open_world
from tests.kpi.conftest import WORLD_END_ON

MAIN = ("预售", "现售")
COLLECTED = {"首付": "首付", "分期": "分期", "按揭": "商贷", "公积金": "公积金", "一次性": "其他", "补差": "其他"}
PERIODS = (report_period("month", WORLD_END_ON), report_period("week", date(2026, 6, 24)))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None  # the world writes Beijing time


def _fen(yuan_text: str) -> int:
    return int(Decimal(yuan_text) * 100)


class World:
    """The world's own answer to each KPI, read from its files without the hub's code."""

    def __init__(self, faces: dict[str, Path], as_of: date) -> None:
        with open_world(faces["world"]) as world:
            self.docs = list(world.iter_docs())
        self.as_of = as_of
        db = sqlite3.connect(faces["world"])
        self.truth = [
            (kind, contract_no, date.fromisoformat(on), json.loads(detail))
            for kind, contract_no, on, detail in db.execute(
                "select kind, contract_no, on_date, detail from ground_truth"
            )
        ]
        db.close()
        db = sqlite3.connect(faces["ledger"])
        kinds = defaultdict(set)
        for ref, kind in db.execute("select ref, kind from links where form = 'AR_RECEIVEBILL'"):
            kinds[ref].add(kind)
        self.receipts = [
            (date.fromisoformat(on), amount, kinds.get(bill_no, set()))
            for bill_no, on, amount in db.execute(
                "select bill_no, date, amount_fen from receipts where voided_at is null"
            )
        ]
        db.close()
        db = sqlite3.connect(faces["banks"])
        self.loans = [json.loads(doc) for (doc,) in db.execute("select doc from loans")]
        db.close()

    def _contracts(self, types, day_of, w: Window):
        return [d for d in self.docs if d["contract_type"] in types and w.holds(day_of(d))]

    def units(self, types, w: Window) -> int:
        return len(self._contracts(types, lambda d: _day(d["signed_at"]), w))

    def amount(self, types, w: Window) -> int:
        return sum(_fen(d["price"]["total_price"]) for d in self._contracts(types, lambda d: _day(d["signed_at"]), w))

    def area(self, types, w: Window) -> Decimal:
        contracts = self._contracts(types, lambda d: _day(d["signed_at"]), w)
        return sum((Decimal(d["house"]["building_area"]) for d in contracts), Decimal(0))

    def filed(self, w: Window) -> int:
        return len(self._contracts(MAIN, lambda d: _day(d["filed_at"]), w))

    def truth_count(self, kinds, w: Window, where=lambda detail: True) -> int:
        return sum(1 for kind, _, on, detail in self.truth if kind in kinds and w.holds(on) and where(detail))

    def collected(self, kind: str | None, w: Window) -> int:
        total = 0
        for on, amount, kinds in self.receipts:
            names = {COLLECTED[k] for k in kinds if k in COLLECTED}
            if w.holds(on) and names and (kind is None or names == {kind}):
                total += amount
        return total

    def handed_over(self, w: Window) -> int:
        return sum(
            1
            for d in self.docs
            if d["contract_type"] in MAIN
            and not d["cancellation"]
            and d["handover"]
            and w.holds(_day(d["handover"]["handed_over_on"]))
        )

    def pipeline(self) -> Counter:
        """Loans by bank and the stage each stood at at the end of the as-of day, as far as the bank had
        told: the fund centre (hpf) publishes a day's list the next morning, the banks answer at once."""
        out: Counter = Counter()
        for loan in self.loans:
            told = self.as_of if loan["bank"] == "hpf" else self.as_of + timedelta(days=1)
            end = datetime.combine(told, datetime.min.time()).isoformat()
            stages = [e for e in loan["events"] if e["at"][:19] < end]
            if stages:
                out[(loan["bank"], stages[-1]["stage"])] += 1
        return out


def test_every_kpi_equals_the_world_s_own_count(loaded, world_faces):
    for period in PERIODS:
        world = World(world_faces, period.end)
        with loaded.engine.connect() as conn:
            data = compute(conn, period)
        for name, pair in windows(period).items():
            for which, w in zip(("current", "previous"), pair, strict=True):
                index = 0 if which == "current" else 1

                def got(key: str, flows=data.flows, name=name, index=index):
                    return flows[key][name][index]

                where = f"{period.label} {name} {which} ({w.start}..{w.end})"
                expected = {
                    "subscriptions_units": world.units(("认购",), w),
                    "subscriptions_amount_fen": world.amount(("认购",), w),
                    "subscriptions_area": world.area(("认购",), w),
                    "signings_units": world.units(MAIN, w),
                    "signings_amount_fen": world.amount(MAIN, w),
                    "signings_area": world.area(MAIN, w),
                    "filings_units": world.filed(w),
                    "filings_late": world.truth_count(("late_filing", "unfiled_overdue"), w),
                    "changes_退房_units": world.truth_count(
                        ("cancelled_contract",), w, lambda d: d["is_return"] and d["contract_type"] in MAIN
                    ),
                    "changes_换房_units": world.truth_count(("room_change",), w),
                    "changes_更名_units": world.truth_count(("rename",), w),
                    "handovers_units": world.handed_over(w),
                    "registrations_late": world.truth_count(("late_registration",), w),
                    "collections_amount_fen": world.collected(None, w),
                    **{
                        f"collections_{k}_fen": world.collected(k, w)
                        for k in ("首付", "分期", "商贷", "公积金", "其他")
                    },
                }
                for key, value in expected.items():
                    assert got(key) == value, f"{key} {where}: hub {got(key)}, world {value}"
                if name == "total" and which == "current":
                    assert all(expected.values()), f"every KPI has facts in the world: {expected}"
        assert data.subscriptions_overdue[0] == world.truth_count(
            ("expired_subscription",), Window("total", None, period.end)
        )
        pipeline = {(row["bank"], row["stage"]): row["loans"] for row in data.pipeline}
        expected_pipeline = dict(world.pipeline())
        assert pipeline == expected_pipeline, {
            k: (pipeline.get(k), expected_pipeline.get(k))
            for k in set(pipeline) | set(expected_pipeline)
            if pipeline.get(k) != expected_pipeline.get(k)
        }
