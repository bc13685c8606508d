"""Precision and recall over the sandbox's demo period: every real change reported, nothing else.

The replay runs the monitor at every scheduled check of the 28 simulated days, through outage,
maintenance page and redesign, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.policy_score import check_times, main, replay, report


def test_the_monitor_finds_every_real_change_and_reports_nothing_else(warehouse_url, tmp_path):
    score = replay(7, warehouse_url=warehouse_url, mail_dir=tmp_path / "mail")
    printed = report(score)
    assert score.recall == 1.0, printed
    assert score.false_alerts == [], printed
    assert score.precision == 1.0
    assert len(score.truth) == 18 and score.checks == 28 * 7
    # one failure alert (the outage), one selector alert (the redesign), a recovery after each
    assert score.alerts["failure"] == 1 and score.alerts["selector"] == 1 and score.alerts["recovery"] == 2
    assert "recall    1.000" in printed and "precision 1.000" in printed


def test_the_schedule_is_every_two_hours_from_8_to_20():
    from datetime import datetime

    from estatehub.settings import BUSINESS_TZ

    times = check_times(datetime(2026, 3, 2, tzinfo=BUSINESS_TZ), 2, "0 8-20/2 * * *")
    assert [t.hour for t in times] == [8, 10, 12, 14, 16, 18, 20] * 2
    with pytest.raises(ValueError, match="daily cron"):
        check_times(datetime(2026, 3, 2, tzinfo=BUSINESS_TZ), 2, "0 8 * * 1")


def test_the_score_script_rejects_a_period_too_short_for_every_kind_of_change(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--days", "3"])
    assert exit_info.value.code == 2
    assert "--days" in capsys.readouterr().err


def test_the_score_script_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "bench.policy_score", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "--seed" in done.stdout and "precision" in done.stdout
