"""The client against the real sandbox trading network on loopback: every fault kind is survived.

One small generated world, one server for the module; each test sets its fault rules through
`POST /_sandbox/faults`, lists every contract with small pages (so faults hit mid-pagination), and
checks the result against a clean listing: every contract exactly once, nothing lost, bad records
quarantined with their reason, and the fault really fired.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connectors.http import RetryPolicy
from connectors.trading_network import (
    AuthError,
    Contract,
    ContractNotFound,
    QuarantineItem,
    TradingNetworkClient,
    read_contract_export,
)

ACCOUNT = "dev-live"
PASSWORD = "live-test-password"
PAGE_SIZE = 7
READ_TIMEOUT = 0.4
CONTRACTS = "/api/v1/contracts"

# One rule per fault kind, tuned to hit several times during one listing of ~15 pages while leaving
# the retry budget (5 attempts) enough room.
FAULT_RULES: dict[str, dict[str, Any]] = {
    "http_500": {"kind": "http_500", "path": CONTRACTS, "every": 3},
    "http_502": {"kind": "http_502", "path": CONTRACTS, "every": 3},
    "http_503": {"kind": "http_503", "path": CONTRACTS, "every": 2, "body": "json"},
    "rate_limit": {"kind": "rate_limit", "path": CONTRACTS, "every": 3, "retry_after": 2},
    "down": {"kind": "down", "path": CONTRACTS, "after": 2, "times": 4},
    "slow": {"kind": "slow", "path": CONTRACTS, "every": 4, "times": 2, "delay": 1.0},
    "truncate": {"kind": "truncate", "path": CONTRACTS, "every": 2, "keep": 0.6},
    "malformed": {"kind": "malformed", "path": CONTRACTS, "every": 2, "count": 1},
    "duplicate": {"kind": "duplicate", "path": CONTRACTS},
    "expire_tokens": {"kind": "expire_tokens", "path": CONTRACTS, "every": 4},
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[str]:
    # imported here, not at module level: collecting this file must not import the `sandbox` package
    # before pytest collects tests/sandbox (a test package of the same name, see the report)
    from sandbox.serve import serve
    from sandbox.world import generate_world

    world = generate_world(tmp_path_factory.mktemp("world") / "world.sqlite", units=50, seed=3)
    with serve(world.path, account=ACCOUNT, password=PASSWORD) as running:
        yield running.urls["trading_network"]


@pytest.fixture
def url(sandbox: str) -> Iterator[str]:
    set_faults(sandbox, [])
    yield sandbox
    set_faults(sandbox, [])


@pytest.fixture(scope="module")
def clean_listing(sandbox: str) -> list[Contract]:
    set_faults(sandbox, [])
    records = list(client(sandbox, []).iter_contracts())
    assert records and all(isinstance(r, Contract) for r in records)
    return records


def set_faults(url: str, rules: list[dict[str, Any]], seed: int = 5) -> None:
    response = requests.post(f"{url}/_sandbox/faults", json={"rules": rules, "seed": seed}, timeout=5)
    response.raise_for_status()


def fault_status(url: str) -> dict[str, Any]:
    return requests.get(f"{url}/_sandbox/faults", timeout=5).json()


def client(url: str, sleeps: list[float], **options: Any) -> TradingNetworkClient:
    options.setdefault("retry", RetryPolicy(max_attempts=5, backoff_initial=0.01, jitter=0.0))
    return TradingNetworkClient(
        url,
        ACCOUNT,
        PASSWORD,
        timeout=(2.0, READ_TIMEOUT),
        page_size=PAGE_SIZE,
        sleep=sleeps.append,
        **options,
    )


def tn_pages(records: list[Any]) -> int:
    return -(-len(records) // PAGE_SIZE)


def test_every_fault_kind_of_the_sandbox_has_a_live_test():
    from sandbox.faults import KINDS

    assert set(FAULT_RULES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(FAULT_RULES))
def test_listing_survives_fault(url, clean_listing, kind):
    sleeps: list[float] = []
    tn = client(url, sleeps)
    set_faults(url, [FAULT_RULES[kind]])

    records = list(tn.iter_contracts())

    status = fault_status(url)
    assert status["rules"][0]["fired"] > 0, f"the {kind} fault never fired: the test proves nothing"
    assert tn_pages(records) > 5  # the faults hit in the middle of a paginated listing
    good = [r for r in records if isinstance(r, Contract)]
    quarantined = [r for r in records if isinstance(r, QuarantineItem)]
    expected = {(c.contract_no, c.updated_at) for c in clean_listing}
    corrupted = {entry["key"] for entry in status["corrupted"]}
    # every contract exactly once: the good ones, plus those the sandbox corrupted as quarantine items
    assert len(records) == len(clean_listing)
    assert len({(c.contract_no, c.updated_at) for c in good}) == len(good)
    assert {(c.contract_no, c.updated_at) for c in good} == {k for k in expected if k[0] not in corrupted}
    assert len(quarantined) == len(corrupted)
    assert all(q.reason and q.payload for q in quarantined)
    if kind == "malformed":
        assert quarantined, "malformed records must come through as quarantine items"
    if kind == "rate_limit":
        assert 2.0 in sleeps  # the server's Retry-After was honoured
    if kind == "expire_tokens":
        assert tn.logins > 1


def test_all_faults_at_once_are_survived(url, clean_listing):
    rules = [FAULT_RULES[kind] for kind in ("http_502", "truncate", "duplicate", "expire_tokens", "rate_limit")]
    rules = [dict(rule, every=5) if "every" in rule else rule for rule in rules]
    set_faults(url, rules)

    records = list(client(url, [], retry=RetryPolicy(max_attempts=8, backoff_initial=0.01)).iter_contracts())

    assert sorted(r.contract_no for r in records) == sorted(c.contract_no for c in clean_listing)


def test_export_download_survives_a_truncated_body(url, tmp_path, clean_listing):
    set_faults(url, [{"kind": "truncate", "path": f"{CONTRACTS}/export.xlsx", "times": 1}])
    tn = client(url, [])

    path = tn.download_export(None, tmp_path / "export.xlsx")

    assert fault_status(url)["rules"][0]["fired"] == 1
    rows = list(read_contract_export(path))
    assert all(not isinstance(r, QuarantineItem) for r in rows)
    assert sorted(r.contract_no for r in rows) == sorted(c.contract_no for c in clean_listing)


def test_get_contract_reads_one_contract_and_404_is_not_found(url, clean_listing):
    tn = client(url, [])
    some = clean_listing[len(clean_listing) // 2]

    assert tn.get_contract(some.contract_no).payload == some.payload
    with pytest.raises(ContractNotFound):
        tn.get_contract("YS2099P99999999")


def test_wrong_password_is_refused_once_and_not_retried(url):
    requests.delete(f"{url}/_sandbox/stats", timeout=5).raise_for_status()
    tn = TradingNetworkClient(url, ACCOUNT, "wrong", retry=RetryPolicy(max_attempts=5))

    with pytest.raises(AuthError, match="40101"):
        list(tn.iter_contracts())

    stats = requests.get(f"{url}/_sandbox/stats", timeout=5).json()
    assert stats["total"] == 1
    assert list(stats["requests"].values()) == [{"401": 1}]
