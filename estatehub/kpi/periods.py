"""The periods a KPI report speaks of, in business days (Asia/Shanghai), each with the one it is compared to.

    report = report_period("week", date(2026, 3, 18))    # Monday 03-16 .. Sunday 03-22
    report = report_period("month", date(2026, 3, 1))    # 03-01 .. 03-31
    windows(report)    # this week, this month, year to date, cumulative: (current, previous) each

A weekly report covers the ISO week (Monday to Sunday) holding its day; a monthly one the calendar
month. Both are judged as of their last day. The windows, all ending on that day:
- week: the 7 days ending then (Monday to Sunday for a weekly report); previous: the 7 days before;
- month: the month so far; previous: the month before, over as many days (all of it at a month end);
- ytd: 1 January so far; previous: last year's, to the same day;
- total: everything up to the day; previous: everything up to the previous report's last day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from estatehub.settings import BUSINESS_TZ

KINDS = ("week", "month")
WINDOWS = ("week", "month", "ytd", "total")


@dataclass(frozen=True)
class Window:
    name: str
    start: date | None  # None: from the beginning
    end: date  # inclusive

    def holds(self, day: date | None) -> bool:
        return day is not None and (self.start is None or day >= self.start) and day <= self.end


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # week or month
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week, _ = self.end.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.end:%Y-%m}"

    @property
    def previous(self) -> ReportPeriod:
        return report_period(self.kind, self.start - timedelta(days=1))


def report_period(kind: str, day: date) -> ReportPeriod:
    """The week (Monday to Sunday) or the calendar month holding `day`."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return ReportPeriod(kind, start, start + timedelta(days=6))
    if kind == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return ReportPeriod(kind, day.replace(day=1), day.replace(day=last))
    raise ValueError(f"expected a report kind of {', '.join(KINDS)}, got {kind!r}")


def _same_day_in(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def windows(period: ReportPeriod) -> dict[str, tuple[Window, Window]]:
    """(current, previous) of each window, all ending on the report's last day."""
    end = period.end
    week = Window("week", end - timedelta(days=6), end)
    prev_week = Window("week", end - timedelta(days=13), end - timedelta(days=7))
    month = Window("month", end.replace(day=1), end)
    prev_month_end = month.start - timedelta(days=1)
    last_of_month = end.day == calendar.monthrange(end.year, end.month)[1]
    prev_month = Window(
        "month",
        prev_month_end.replace(day=1),
        prev_month_end if last_of_month else _same_day_in(prev_month_end.year, prev_month_end.month, end.day),
    )
    ytd = Window("ytd", date(end.year, 1, 1), end)
    prev_ytd = Window("ytd", date(end.year - 1, 1, 1), _same_day_in(end.year - 1, end.month, end.day))
    total = Window("total", None, end)
    prev_total = Window("total", None, period.previous.end)
    return {
        "week": (week, prev_week),
        "month": (month, prev_month),
        "ytd": (ytd, prev_ytd),
        "total": (total, prev_total),
    }


def trend_weeks(end: date, count: int = 12) -> list[Window]:
    """The `count` weeks (Monday to Sunday) up to the one holding `end`, oldest first, for the trend chart."""
    last_monday = end - timedelta(days=end.weekday())
    return [
        Window("week", monday, monday + timedelta(days=6))
        for monday in (last_monday - timedelta(weeks=n) for n in range(count - 1, -1, -1))
    ]


def day_end_utc(day: date) -> datetime:
    """The end of business day `day` (midnight after it in Asia/Shanghai) in UTC: the bound `< as_of_at`."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)


def business_day(moment: datetime | None) -> date | None:
    return moment.astimezone(BUSINESS_TZ).date() if moment is not None else None


def reports_due(moment: datetime) -> list[tuple[str, date]]:
    """The KPI reports a scheduled run at `moment` sends, as (kind, a day of the period): on a Monday
    the week just ended, on the 1st the month just ended (both when a Monday is the 1st). A run on any
    other day (started by hand) sends the last complete week."""
    today = moment.astimezone(BUSINESS_TZ).date()
    yesterday = today - timedelta(days=1)
    due = []
    if today.weekday() == 0:
        due.append(("week", yesterday))
    if today.day == 1:
        due.append(("month", yesterday))
    return due or [("week", today - timedelta(days=today.weekday() + 1))]
