"""Times of the simulated world.

Inside the generator every moment is a naive `datetime` in Beijing time (Asia/Shanghai has no
daylight saving, so UTC is always eight hours behind) with whole seconds. These helpers format them
the two ways the store needs: `+08:00` for the API documents, `+00:00` (UTC) for sortable columns and
timing keys.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.world.dice import below

BEIJING_OFFSET = timedelta(hours=8)
# the zone every simulated system speaks (the business zone of the hub too; the sandbox keeps its own)
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def bj_iso(moment: datetime) -> str:
    """`2025-03-01T14:03:00+08:00` for a naive Beijing-time moment."""
    return moment.isoformat() + "+08:00"


def utc_iso(moment: datetime) -> str:
    """`2025-03-01T06:03:00+00:00` for a naive Beijing-time moment."""
    return (moment - BEIJING_OFFSET).isoformat() + "+00:00"


def now_strings(now: datetime) -> tuple[str, str]:
    """An aware `now` as (`+08:00` iso, `+00:00` iso), truncated to the second, for text comparison."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime for the view time, got naive {now!r}")
    utc = now.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return bj_iso(utc + BEIJING_OFFSET), utc.isoformat() + "+00:00"


def day_end(day: date) -> datetime:
    """The last second of a Beijing business day."""
    return datetime.combine(day, time(23, 59, 59))


def at_office_hours(rng: random.Random, day: date, first_hour: int = 9, last_hour: int = 18) -> datetime:
    """A moment on `day` between `first_hour`:00 and `last_hour`:00, to the minute."""
    minute = below(rng, (last_hour - first_hour) * 60)
    return datetime(day.year, day.month, day.day, first_hour + minute // 60, minute % 60)


def next_workday(day: date) -> date:
    """`day` itself on Monday to Friday, else the Monday after (public holidays are not modelled)."""
    weekday = day.weekday()
    return day if weekday < 5 else day + timedelta(days=7 - weekday)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has at least 28 days")
