"""The freshness rules at their edges: business hours, days off, the grace exactly at the limit."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from estatehub.freshness.rules import DEFAULT_RULES_PATH, FreshnessRulesError, load_rules, parse_rules
from estatehub.freshness.status import FileFreshness, StreamFreshness
from estatehub.settings import BUSINESS_TZ

WEEKDAYS_ONLY = ["mon", "tue", "wed", "thu", "fri"]


def bj(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BUSINESS_TZ)


def rules(days=None, hours="09:00-19:00", every="1h", grace="30m", due="07:30"):
    return parse_rules(
        {
            "syncs": [
                {
                    "source": "trading_network",
                    "streams": ["contracts"],
                    "every": every,
                    "grace": grace,
                    "hours": hours,
                    "days": days,
                }
            ],
            "daily_files": [
                {
                    "name": "statements",
                    "kind": "bank_statement",
                    "banks": ["icbc"],
                    "due": due,
                    "grace": "30m",
                    "days": days,
                }
            ],
        }
    )


def test_business_time_skips_the_night_and_the_weekend_when_the_rule_says_weekdays():
    window = rules(days=WEEKDAYS_ONLY).syncs[0].window
    friday_evening, monday_morning = bj(2026, 12, 4, 18, 50), bj(2026, 12, 7, 9, 20)
    assert friday_evening.weekday() == 4 and monday_morning.weekday() == 0
    assert window.elapsed(friday_evening, monday_morning) == timedelta(minutes=30)


def test_business_time_counts_the_weekend_when_the_rule_names_every_day():
    window = rules().syncs[0].window
    # 10 min on Friday, 10 h on Saturday and Sunday, 20 min on Monday
    assert window.elapsed(bj(2026, 12, 4, 18, 50), bj(2026, 12, 7, 9, 20)) == timedelta(hours=20, minutes=30)


def test_business_time_is_zero_outside_the_hours_and_for_a_time_in_the_future():
    window = rules().syncs[0].window
    assert window.elapsed(bj(2026, 12, 3, 19, 0), bj(2026, 12, 4, 8, 59)) == timedelta(0)
    assert window.elapsed(bj(2026, 12, 3, 12, 0), bj(2026, 12, 3, 11, 0)) == timedelta(0)


def _stream(rule, last_ok, now):
    return StreamFreshness(rule, "contracts", last_ok, None, rule.window.elapsed(last_ok, now), None)


def test_a_stream_is_stale_only_after_every_plus_grace_not_at_the_exact_limit():
    rule = rules().syncs[0]
    last_ok = bj(2026, 12, 3, 10, 0)
    assert not _stream(rule, last_ok, bj(2026, 12, 3, 11, 30)).stale, "exactly at 1h + 30m: still within"
    assert _stream(rule, last_ok, bj(2026, 12, 3, 11, 30, 1)).stale, "one second past the limit"


def test_a_stream_that_synced_last_at_closing_time_is_not_stale_overnight_but_is_the_next_morning():
    rule = rules().syncs[0]
    last_ok = bj(2026, 12, 3, 18, 5)
    assert not _stream(rule, last_ok, bj(2026, 12, 4, 3, 0)).stale
    assert not _stream(rule, last_ok, bj(2026, 12, 4, 9, 35)).stale  # 55 min + 35 min = 1h30m exactly
    assert _stream(rule, last_ok, bj(2026, 12, 4, 9, 36)).stale


def test_a_stream_that_never_synced_is_stale():
    rule = rules().syncs[0]
    assert StreamFreshness(rule, "contracts", None, None, None, None).stale


def test_the_file_of_a_day_is_late_strictly_after_due_plus_grace_the_next_morning():
    rule = rules().files[0]
    assert rule.expected_day(bj(2026, 12, 3, 8, 0)) == date(2026, 12, 1), "07:30 + 30m exactly: not late yet"
    assert rule.expected_day(bj(2026, 12, 3, 8, 0, 1)) == date(2026, 12, 2)
    on_time = FileFreshness(rule, "bank_icbc", "icbc", date(2026, 12, 1), rule.expected_day(bj(2026, 12, 3, 8, 0)))
    assert not on_time.late
    late = FileFreshness(rule, "bank_icbc", "icbc", date(2026, 12, 1), rule.expected_day(bj(2026, 12, 3, 8, 1)))
    assert late.late


def test_files_expected_on_weekdays_only_are_not_missed_over_the_weekend():
    rule = rules(days=WEEKDAYS_ONLY).files[0]
    sunday = bj(2026, 12, 6, 10, 0)
    assert sunday.weekday() == 6
    assert rule.expected_day(sunday) == date(2026, 12, 4), "Friday's file (due Saturday 08:00); none for Sat/Sun"
    assert rule.expected_day(bj(2026, 12, 8, 8, 30)) == date(2026, 12, 7), "Monday's, due Tuesday"


@pytest.mark.parametrize(
    ("entry", "place"),
    [
        ({"every": "1 hour"}, "syncs[0].every"),
        ({"hours": "19:00-09:00"}, "syncs[0].hours"),
        ({"days": ["monday"]}, "syncs[0].days"),
        ({"streams": []}, "syncs[0].streams"),
    ],
)
def test_a_typo_in_the_rules_is_refused_with_its_place(entry, place):
    sync = {"source": "trading_network", "streams": ["contracts"], "every": "1h", **entry}
    with pytest.raises(FreshnessRulesError, match=rf"^{re.escape(place)}"):
        parse_rules({"syncs": [sync]})


def test_the_projects_rules_file_loads_and_covers_every_source_and_daily_file():
    loaded = load_rules(DEFAULT_RULES_PATH)
    assert {rule.source for rule in loaded.syncs} == {
        "trading_network",
        "finance_ledger",
        "bank_icbc",
        "bank_ccb",
        "bank_cmb",
        "bank_hpf",
    }
    assert {(rule.kind, rule.due.isoformat()) for rule in loaded.files} == {
        ("bank_statement", "07:30:00"),
        ("fund_loan_list", "07:30:00"),
    }


def test_a_source_that_brought_nothing_new_is_quiet_only_past_its_quiet_limit_in_business_hours():
    rule = parse_rules(
        {
            "syncs": [
                {
                    "source": "trading_network",
                    "streams": ["contracts"],
                    "every": "1h",
                    "hours": "09:00-19:00",
                    "quiet": "10h",
                }
            ]
        }
    ).syncs[0]
    newest = bj(2026, 12, 2, 9, 0)

    def status(now):
        return StreamFreshness(rule, "contracts", now, newest, timedelta(0), rule.window.elapsed(newest, now))

    assert not status(bj(2026, 12, 3, 8, 0)).quiet, "a whole business day (10 h) without news: at the limit"
    assert status(bj(2026, 12, 3, 9, 1)).quiet
    [finding] = status(bj(2026, 12, 3, 9, 1)).findings()
    assert (finding.key, finding.kind) == ("no_new_data:trading_network", "no_new_data")
