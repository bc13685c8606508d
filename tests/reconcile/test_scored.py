"""The reconciliations scored against the sandbox's ground truth (`bench.reconcile_score`) on a small world
built by the project's own syncs: each reconciliation at its targets, and no break on a clean world.

Slow (two worlds of 120 units, a few minutes): the sandbox is served in a child process as the demo does
and the warehouse is synced from it. A reconciliation measured below its targets is marked `xfail`
strictly (what was measured: README, the scored reconciliations): the day it reaches them the test fails
until the mark goes."""

from __future__ import annotations

import pytest

from bench.reconcile_score import PRECISION_TARGET, RECALL_TARGET, RECONCILIATIONS, run

pytestmark = pytest.mark.slow

UNITS, SEED = 120, 7
BELOW_TARGET: dict[str, str] = {}  # reconciliation → why it is below its targets on this world (none today)
BREAKS_ON_CLEAN: dict[str, str] = {}  # reconciliation → why it shows breaks on a clean world (none today)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    result, _ = run(UNITS, SEED, clean=False, home=tmp_path_factory.mktemp("scored"))
    return result


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    result, _ = run(UNITS, SEED, clean=True, home=tmp_path_factory.mktemp("clean"))
    return result


def _params(known: dict[str, str]) -> list:
    return [
        pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=known[name])] if name in known else [], id=name)
        for name in RECONCILIATIONS
    ]


@pytest.mark.parametrize("name", _params(BELOW_TARGET))
def test_each_reconciliation_finds_what_the_world_planted_at_its_targets(scored, name):
    if not scored.built[name]:
        pytest.skip(f"no {name} reconciliation in the hub yet")
    tally = scored.by_reconciliation[name]
    assert tally.tp + tally.fn > 0, f"the world planted nothing {name} should find: the score proves nothing"
    misses = [(p.kind, p.contract_no) for p in scored.misses if p.check == name][:10]
    alarms = [(b["reason"], b["subject"]) for b in scored.false_alarms if b["reconciliation"] == name][:10]
    assert tally.recall >= RECALL_TARGET, f"{name}: recall {tally.recall:.3f}, missed e.g. {misses}"
    assert tally.precision >= PRECISION_TARGET, f"{name}: precision {tally.precision:.3f}, false alarms {alarms}"


# (precision, recall) measured on this world (README): a check may get better, not worse;
# this holds the reconciliations still below their targets to what they reached
REACHED = {name: (1.0, 1.0) for name in RECONCILIATIONS}


@pytest.mark.parametrize("name", list(REACHED))
def test_no_reconciliation_falls_below_what_it_reached(scored, name):
    if not scored.built[name]:
        pytest.skip(f"no {name} reconciliation in the hub yet")
    tally = scored.by_reconciliation[name]
    precision, recall = REACHED[name]
    assert tally.recall >= recall, f"{name}: recall {tally.recall:.3f} < {recall} reached before"
    assert tally.precision >= precision, f"{name}: precision {tally.precision:.3f} < {precision} reached before"


@pytest.mark.parametrize("name", _params(BREAKS_ON_CLEAN))
def test_a_clean_world_shows_no_break(clean, name):
    if not clean.built[name]:
        pytest.skip(f"no {name} reconciliation in the hub yet")
    assert clean.planted == 0, "a clean world plants nothing"
    alarms = [(b["reason"], b["subject"]) for b in clean.false_alarms if b["reconciliation"] == name]
    assert alarms == [], f"{name}: {len(alarms)} breaks on a world that plants nothing, e.g. {alarms[:10]}"
