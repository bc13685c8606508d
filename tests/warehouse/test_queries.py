from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone

from connectors.trading_network.records import Cancellation, Contract, StateChange
from estatehub.trading_network.sync import sync_trading_network
from estatehub.warehouse import queries
from tests.support.trading_network_fakes import FakeTradingNetworkClient, synthetic_contract, world_at

SHANGHAI = timezone(timedelta(hours=8))
D = date(2026, 3, 31)


def at(text: str) -> datetime:
    """A Beijing wall-clock time (`2026-03-31 23:59`) as the network writes it."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def contract(n: int, *changes: tuple[str, str], contract_type: str = "预售") -> Contract:
    """Synthetic contract n with the given history [(state, Beijing time), ...]."""
    base = synthetic_contract(n)
    history = tuple(StateChange(state, at(moment)) for state, moment in changes)
    signed = next((c.at for c in history if c.state == "已签"), None)
    filed = next((c.at for c in history if c.state == "已备案"), None)
    cancelled = next((c.at for c in history if c.state == "撤销"), None)
    payload = {**base.payload, "history": [[c.state, c.at.isoformat()] for c in history]}
    return dataclasses.replace(
        base,
        contract_type=contract_type,
        state=history[-1].state,
        updated_at=history[-1].at,
        history=history,
        signed_at=signed,
        filed_at=filed,
        cancellation=Cancellation(cancelled, "资金问题", None) if cancelled else None,
        handover=None,
        registration=None,
        payment_plan=base.payment_plan[:3],
        payload=payload,
    )


def load(warehouse, contracts):
    sync_trading_network(FakeTradingNetworkClient(contracts), warehouse)


def test_signed_on_day_d_and_not_yet_filed_comes_from_the_state_history(warehouse):
    contracts = [
        contract(1, ("待签", "2026-03-30 10:00"), ("已签", "2026-03-31 23:59")),  # signed late on D
        contract(2, ("待签", "2026-03-01 10:00"), ("已签", "2026-03-02 10:00"), ("已备案", "2026-04-01 00:00")),
        contract(3, ("待签", "2026-03-01 10:00"), ("已签", "2026-03-02 10:00"), ("已备案", "2026-03-31 23:59")),
        contract(4, ("待签", "2026-03-30 10:00"), ("已签", "2026-04-01 00:00")),  # signed after D
        contract(5, ("待签", "2026-03-01 10:00"), ("已签", "2026-03-02 10:00"), ("撤销", "2026-03-20 10:00")),
        contract(
            6,
            ("待签", "2026-03-01 10:00"),
            ("已签", "2026-03-02 10:00"),
            ("已备案", "2026-03-10 10:00"),
            ("变更", "2026-03-15 10:00"),
            ("已签", "2026-03-16 10:00"),
        ),  # back to 已签, but filed before
        contract(7, ("待签", "2026-03-31 09:00")),
    ]
    load(warehouse, contracts)

    rows = queries.contracts_in_state_on(warehouse.engine, state="已签", on=D, not_reached="已备案")
    assert [row.contract_no for row in rows] == [contracts[0].contract_no, contracts[1].contract_no]
    assert rows[0].state_since_at == at("2026-03-31 23:59") and rows[0].state_since_at.tzinfo is not None
    everything_signed = queries.contracts_in_state_on(warehouse.engine, state="已签", on=D)
    assert {row.contract_no for row in everything_signed} == {contracts[i].contract_no for i in (0, 1, 5)}
    on_the_day_before = queries.contracts_in_state_on(
        warehouse.engine, state="已签", on=D - timedelta(days=1), not_reached="已备案"
    )
    assert {row.contract_no for row in on_the_day_before} == {contracts[1].contract_no, contracts[2].contract_no}


def test_state_history_answers_agree_with_the_records_for_every_day(warehouse):
    contracts = world_at(80, datetime(2026, 6, 1, tzinfo=SHANGHAI))
    load(warehouse, contracts)
    for day in (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 12), date(2026, 2, 20)):
        cutoff = queries.end_of_day_cutoff(day)
        expected = set()
        for c in contracts:
            states = [change for change in c.history if change.at < cutoff]
            if states and states[-1].state == "已签" and not any(s.state == "已备案" for s in states):
                expected.add(c.contract_no)
        got = queries.contracts_in_state_on(warehouse.engine, state="已签", on=day, not_reached="已备案")
        assert {row.contract_no for row in got} == expected, day


def test_filings_overdue_lists_signed_contracts_not_filed_within_30_days(warehouse):
    contracts = [
        contract(1, ("待签", "2026-02-27 09:00"), ("已签", "2026-03-01 10:00")),  # due 03-31
        contract(2, ("待签", "2026-02-20 09:00"), ("已签", "2026-02-28 10:00")),  # due 03-30: overdue on 03-31
        contract(3, ("待签", "2026-02-20 09:00"), ("已签", "2026-02-21 10:00"), ("已备案", "2026-03-05 10:00")),
        contract(4, ("待签", "2026-02-20 09:00"), ("已签", "2026-02-21 10:00"), ("撤销", "2026-03-05 10:00")),
        contract(5, ("待签", "2026-02-01 09:00"), ("已签", "2026-02-02 10:00"), ("已备案", "2026-04-02 10:00")),
        contract(6, ("待签", "2026-02-01 09:00"), ("已签", "2026-02-02 10:00"), contract_type="认购"),
    ]
    load(warehouse, contracts)

    overdue = queries.filings_overdue(warehouse.engine, as_of=D)
    assert [(r.contract_no, r.signed_on, r.filing_due_on, r.days_since_signing) for r in overdue] == [
        (contracts[4].contract_no, date(2026, 2, 2), date(2026, 3, 4), 57),  # filed only after D
        (contracts[1].contract_no, date(2026, 2, 28), date(2026, 3, 30), 31),
    ]
    next_day = queries.filings_overdue(warehouse.engine, as_of=D + timedelta(days=1))
    assert contracts[0].contract_no in {r.contract_no for r in next_day}


def test_contract_state_counts_by_type_and_state_now_and_at_the_end_of_a_day(warehouse):
    contracts = [
        contract(1, ("待签", "2026-03-30 10:00"), ("已签", "2026-03-31 12:00")),
        contract(2, ("待签", "2026-03-01 10:00"), ("已签", "2026-03-02 10:00"), ("已备案", "2026-04-01 09:00")),
        contract(3, ("待签", "2026-03-01 10:00")),
        contract(4, ("待签", "2026-03-01 10:00"), contract_type="认购"),
    ]
    load(warehouse, contracts)
    assert queries.contract_state_counts(warehouse.engine) == [
        ("认购", "待签", 1),
        ("预售", "已备案", 1),
        ("预售", "已签", 1),
        ("预售", "待签", 1),
    ]
    assert [tuple(r) for r in queries.contract_state_counts(warehouse.engine, on=D)] == [
        ("认购", "待签", 1),
        ("预售", "已签", 2),
        ("预售", "待签", 1),
    ]
    assert queries.contract_state_counts(warehouse.engine, on=date(2026, 2, 1)) == []


def test_contracts_in_state_on_answers_for_main_contracts_unless_asked_for_every_type(warehouse):
    subscription = contract(1, ("已签", "2026-03-01 10:00"), contract_type="认购")
    main = contract(2, ("待签", "2026-03-01 10:00"), ("已签", "2026-03-02 10:00"))
    load(warehouse, [subscription, main])
    default = queries.contracts_in_state_on(warehouse.engine, state="已签", on=D, not_reached="已备案")
    assert [row.contract_no for row in default] == [main.contract_no]
    every = queries.contracts_in_state_on(
        warehouse.engine, state="已签", on=D, not_reached="已备案", contract_types=None
    )
    assert {row.contract_no for row in every} == {subscription.contract_no, main.contract_no}
