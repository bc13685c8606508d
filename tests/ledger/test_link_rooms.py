"""The linker and a memo that names a bare room (502房) in a project of many buildings (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from estatehub.ledger.link import MAX_CANDIDATES, Linker
from estatehub.memo import RoomDirectory


def test_a_bare_room_that_fits_the_customer_s_unit_beyond_the_first_candidates_is_no_other_unit(warehouse):
    """A bare room fits one house per building; the memo names the customer's own unit when their house is
    any of them, not only one of the first `MAX_CANDIDATES` the linker looks contracts up for. Seen at 2,000
    units: 18 receipts flagged 'memo names another unit' (false alarms) because the customer's house came
    seventh or later among the 502s of the project."""
    buildings = MAX_CANDIDATES + 3
    rooms = RoomDirectory((f"P01-{b:02d}-1-502", f"{b}栋", "1单元", "502") for b in range(1, buildings + 1))
    theirs = f"P01-{buildings:02d}-1-502"  # the last candidate: beyond the first MAX_CANDIDATES
    elsewhere = "P01-01-1-1203"  # a house the memo cannot mean
    row = SimpleNamespace(
        remark="任志明付502房 任峰伟诚意金",
        phase_code="P01",
        customer_name="任峰伟",
        customer_code="KH1",
        amount_fen=2_000_000,
    )
    with warehouse.engine.connect() as conn:
        linker = Linker(conn, {"P01": rooms})
        found = linker.link(row, on=date(2026, 5, 1), known={"KH1": frozenset({("RG1", theirs)})})
        other = linker.link(row, on=date(2026, 5, 1), known={"KH1": frozenset({("RG2", elsewhere)})})
    assert (found.contract_no, found.house_id, found.basis) == ("RG1", theirs, "customer_code")
    assert (other.contract_no, other.basis) == ("RG2", "customer_code (memo names another unit)")
