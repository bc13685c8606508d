"""`contract_as_of`: a stored whole-life document cut at a moment, as the network shows it then."""

from __future__ import annotations

import copy
import sqlite3
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.world import contract_as_of, contract_summary, generate_world, open_world
from sandbox.world.view import utc_to_beijing_text

SECOND = timedelta(seconds=1)
TIMING_KEYS = {"visible_from", "at", "applied_at", "registered_at"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    info = generate_world(tmp_path_factory.mktemp("view") / "world.sqlite", units=300, seed=7)
    events = defaultdict(list)
    for contract_no, at in sqlite3.connect(info.path).execute("select contract_no, at from events order by at"):
        events[contract_no].append(at)
    with open_world(info.path) as store:
        docs = {doc["contract_no"]: doc for doc in store.iter_docs()}
    return info, docs, events


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def full_life(docs):
    """A contract that was drafted, signed, filed, handed over with a true-up, and registered."""
    for doc in docs.values():
        registration = doc["registration"]
        if registration and registration["registered_at"] and doc["payment_plan"][-1]["kind"] == "补差":
            return doc
    raise AssertionError("the demo world has no fully registered contract with a true-up")


def test_a_contract_does_not_exist_before_its_first_history_entry(world):
    _, docs, _ = world
    doc = full_life(docs)
    assert contract_as_of(doc, moment(doc["history"][0]["at"]) - SECOND) is None


def test_a_drafted_contract_shows_only_its_draft(world):
    _, docs, _ = world
    doc = full_life(docs)
    view = contract_as_of(doc, moment(doc["history"][0]["at"]))
    assert view["state"] == "待签"
    assert [entry["state"] for entry in view["history"]] == ["待签"]
    assert view["signed_at"] is view["filed_at"] is view["handover"] is view["registration"] is None
    assert view["updated_at"] == doc["history"][0]["at"]
    assert "补差" not in [line["kind"] for line in view["payment_plan"]]


def test_signing_and_filing_appear_at_their_moments(world):
    _, docs, _ = world
    doc = full_life(docs)
    signed = contract_as_of(doc, moment(doc["signed_at"]))
    assert signed["state"] == "已签" and signed["signed_at"] == doc["signed_at"] and signed["filed_at"] is None
    assert contract_as_of(doc, moment(doc["signed_at"]) - SECOND)["state"] == "待签"
    filed = contract_as_of(doc, moment(doc["filed_at"]))
    assert filed["state"] == "已备案" and filed["filed_at"] == doc["filed_at"]
    assert filed["updated_at"] == doc["filed_at"]


def test_handover_and_true_up_appear_together_at_handover(world):
    _, docs, _ = world
    doc = full_life(docs)
    at = moment(doc["handover"]["at"])
    before, after = contract_as_of(doc, at - SECOND), contract_as_of(doc, at)
    assert before["handover"] is None
    assert "补差" not in [line["kind"] for line in before["payment_plan"]]
    assert after["handover"] == {
        key: doc["handover"][key] for key in ("handed_over_on", "as_built_area", "area_diff_amount")
    }
    assert after["payment_plan"][-1]["kind"] == "补差"
    assert after["state"] == before["state"]
    assert after["updated_at"] == utc_to_beijing_text(doc["handover"]["at"])


def test_registration_is_in_progress_after_applying_and_done_after_registering(world):
    _, docs, _ = world
    doc = full_life(docs)
    record = doc["registration"]
    applied = contract_as_of(doc, moment(record["applied_at"]))
    assert applied["registration"] == {
        "status": "办理中", "applied_on": record["applied_on"], "registered_on": None, "certificate_no": None
    }  # fmt: skip
    assert applied["state"] == "已备案"
    assert applied["updated_at"] == utc_to_beijing_text(record["applied_at"])
    done = contract_as_of(doc, moment(record["registered_at"]))
    assert done["registration"]["status"] == "已领证"
    assert done["registration"]["certificate_no"] == record["certificate_no"]
    assert done["state"] == "已领证"


def test_cancellation_appears_only_once_it_happened(world):
    _, docs, _ = world
    doc = next(d for d in docs.values() if d["cancellation"] and d["contract_type"] != "认购")
    at = moment(doc["cancellation"]["cancelled_at"])
    assert contract_as_of(doc, at - SECOND)["cancellation"] is None
    view = contract_as_of(doc, at)
    assert view["cancellation"] == doc["cancellation"] and view["state"] == "撤销"


def test_cut_at_the_world_end_is_the_document_without_timing_keys(world):
    info, docs, _ = world
    end = datetime.combine(info.end_on + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    for doc in docs.values():
        view = contract_as_of(doc, end)
        expected = copy.deepcopy(doc)
        for line in expected["payment_plan"]:
            del line["visible_from"]
        if expected["handover"]:
            del expected["handover"]["at"]
        if expected["registration"]:
            del expected["registration"]["applied_at"], expected["registration"]["registered_at"]
        assert view == expected


def test_views_never_carry_timing_keys(world):
    _, docs, _ = world
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for doc in docs.values():
        view = contract_as_of(doc, now)
        if view is None:
            continue
        assert not TIMING_KEYS & set(view["handover"] or {})
        assert not TIMING_KEYS & set(view["registration"] or {})
        assert all("visible_from" not in line for line in view["payment_plan"])


def test_updated_at_is_the_latest_event_at_or_before_the_moment(world):
    info, docs, events = world
    moments = [datetime(2025, 3, 1, 10, tzinfo=UTC) + timedelta(days=37 * k, hours=5 * k) for k in range(14)]
    for now in moments:
        now_utc = now.isoformat()
        for contract_no, doc in docs.items():
            seen = events[contract_no][: bisect_right(events[contract_no], now_utc)]
            view = contract_as_of(doc, now)
            if not seen:
                assert view is None
            else:
                assert view["updated_at"] == utc_to_beijing_text(seen[-1]), (contract_no, now)


def test_the_view_is_a_copy(world):
    _, docs, _ = world
    doc = full_life(docs)
    original = copy.deepcopy(doc)
    view = contract_as_of(doc, moment(doc["history"][-1]["at"]))
    view["buyers"][0]["name"] = "changed"
    view["house"]["room"] = "changed"
    view["history"][0]["state"] = "changed"
    assert doc == original


def test_any_timezone_gives_the_same_view_and_naive_times_are_refused(world):
    _, docs, _ = world
    doc = full_life(docs)
    at = moment(doc["filed_at"])
    assert contract_as_of(doc, at.astimezone(UTC)) == contract_as_of(doc, at)
    with pytest.raises(ValueError, match="timezone-aware"):
        contract_as_of(doc, at.replace(tzinfo=None))


def test_summary_has_the_list_fields(world):
    _, docs, _ = world
    doc = full_life(docs)
    view = contract_as_of(doc, moment(doc["signed_at"]))
    assert contract_summary(view) == {
        "contract_no": doc["contract_no"], "contract_type": doc["contract_type"], "state": "已签",
        "updated_at": doc["signed_at"], "house_id": doc["house"]["house_id"],
        "total_price": doc["price"]["total_price"],
    }  # fmt: skip
