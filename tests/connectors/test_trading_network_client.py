"""The trading network client against a mocked gateway: login, paging, re-login, faults, export."""

from __future__ import annotations

import gc
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
import requests
from openpyxl import Workbook
from responses import matchers
from tn_fixtures import (
    ACCOUNT,
    BASE_URL,
    CONTRACTS_URL,
    LOGIN_URL,
    PASSWORD,
    add_login,
    envelope,
    make_contract,
    page,
)

from connectors import errors as base
from connectors.http import RetryPolicy
from connectors.paging import PageBoundaryDeduplicator, PageTokenPaginator
from connectors.trading_network import (
    AuthError,
    BadRecord,
    Contract,
    ContractNotFound,
    FatalHTTPError,
    PaginationError,
    QuarantineItem,
    RateLimited,
    RetriableError,
    TradingNetworkClient,
    TradingNetworkError,
)
from connectors.trading_network import client as client_module


def list_params(token: str | None = None, **extra: str) -> dict[str, str]:
    params = {"page_size": "200", "expand": "detail", **extra}
    if token is not None:
        params["page_token"] = token
    return params


def on_page(token: str | None = None, *, strict: bool = False, **extra: str):
    return [matchers.query_param_matcher(list_params(token, **extra), strict_match=strict)]


def bearer(token: str):
    return matchers.header_matcher({"Authorization": f"Bearer {token}"})


def test_login_posts_the_account_and_every_call_carries_the_bearer_token(mocked, make_client):
    mocked.post(
        LOGIN_URL,
        json=envelope({"token": "tok-1", "expires_in": 1800}),
        match=[matchers.json_params_matcher({"account": ACCOUNT, "password": PASSWORD})],
    )
    mocked.get(CONTRACTS_URL, json=page([make_contract()], None), match=[bearer("tok-1"), *on_page(strict=True)])

    records = list(make_client().iter_contracts(None))

    assert [r.contract_no for r in records] == ["YS2026P01000123"]
    assert isinstance(records[0], Contract)


def test_iter_contracts_sends_updated_since_in_beijing_time_with_detail_and_page_size(mocked, make_client):
    add_login(mocked)
    since = datetime(2026, 3, 31, 2, 15, 30, 999_000, tzinfo=UTC)
    mocked.get(
        CONTRACTS_URL,
        json=page([], None),
        match=on_page(strict=True, updated_since="2026-03-31T10:15:30+08:00"),
    )

    assert list(make_client().iter_contracts(since)) == []


def test_iter_contracts_follows_page_tokens_to_the_last_page(mocked, make_client):
    add_login(mocked)
    first = [make_contract(f"YS{n}", f"2026-03-20T09:3{n}:00+08:00") for n in range(3)]
    second = [make_contract(f"YS{n}", f"2026-03-20T09:3{n}:00+08:00") for n in range(3, 5)]
    mocked.get(CONTRACTS_URL, json=page(first, "t1"), match=on_page(strict=True))
    mocked.get(CONTRACTS_URL, json=page(second, None), match=on_page("t1", strict=True))

    records = list(make_client().iter_contracts())

    assert [r.contract_no for r in records] == ["YS0", "YS1", "YS2", "YS3", "YS4"]


def test_iter_contracts_resumes_after_expired_token_mid_pagination(mocked, make_client):
    mocked.post(LOGIN_URL, json=envelope({"token": "tok-1", "expires_in": 1800}))
    mocked.get(CONTRACTS_URL, json=page([make_contract("YS1")], "t1"), match=[bearer("tok-1"), *on_page()])
    mocked.get(
        CONTRACTS_URL,
        status=401,
        json={"code": 40102, "message": "令牌已过期"},
        match=[bearer("tok-1"), *on_page("t1")],
    )
    mocked.post(LOGIN_URL, json=envelope({"token": "tok-2", "expires_in": 1800}))
    mocked.get(
        CONTRACTS_URL,
        json=page([make_contract("YS2", "2026-03-21T09:00:00+08:00")], None),
        match=[bearer("tok-2"), *on_page("t1")],
    )
    client = make_client()

    records = list(client.iter_contracts())

    assert [r.contract_no for r in records] == ["YS1", "YS2"]
    assert client.logins == 2


def test_unknown_token_40100_also_logs_in_again(mocked, make_client):
    add_login(mocked, "tok-1")
    mocked.get(CONTRACTS_URL, status=401, json={"code": 40100, "message": "未登录或令牌无效"})
    add_login(mocked, "tok-2")
    mocked.get(CONTRACTS_URL, json=page([], None), match=[bearer("tok-2")])

    assert list(make_client().iter_contracts()) == []


def test_fresh_token_refused_again_is_an_auth_error_after_one_new_login(mocked, make_client):
    add_login(mocked, "tok-1")
    mocked.get(CONTRACTS_URL, status=401, json={"code": 40102, "message": "令牌已过期"})
    add_login(mocked, "tok-2")
    mocked.get(CONTRACTS_URL, status=401, json={"code": 40102, "message": "令牌已过期"})

    with pytest.raises(AuthError, match="fresh token"):
        list(make_client().iter_contracts())

    assert len(mocked.calls) == 4


def test_wrong_password_40101_is_a_fatal_auth_error_without_retry(mocked, make_client, sleeps):
    mocked.post(LOGIN_URL, status=401, json={"code": 40101, "message": "账号或密码错误"})
    client = make_client()

    with pytest.raises(AuthError) as caught:
        list(client.iter_contracts())

    error = caught.value
    assert isinstance(error, TradingNetworkError) and isinstance(error, base.AuthError)
    assert error.api_code == 40101
    assert "账号或密码错误" in str(error) and "trading_network Connection" in str(error)
    assert PASSWORD not in str(error) and repr(client).count(PASSWORD) == 0
    assert sleeps == [] and len(mocked.calls) == 1


def test_429_with_retry_after_mid_listing_waits_and_continues(mocked, make_client, sleeps):
    add_login(mocked)
    mocked.get(CONTRACTS_URL, status=429, headers={"Retry-After": "2"}, json={"code": 42900})
    mocked.get(CONTRACTS_URL, json=page([make_contract()], None))

    assert len(list(make_client().iter_contracts())) == 1
    assert sleeps == [2.0]


def test_5xx_is_retried_then_the_listing_completes(mocked, make_client, sleeps):
    add_login(mocked)
    mocked.get(CONTRACTS_URL, json=page([make_contract("YS1")], "t1"), match=on_page())
    mocked.get(CONTRACTS_URL, status=502, body="<html>502 Bad Gateway</html>", match=on_page("t1"))
    mocked.get(CONTRACTS_URL, status=503, json={"code": 50300}, match=on_page("t1"))
    mocked.get(
        CONTRACTS_URL,
        json=page([make_contract("YS2", "2026-03-21T09:00:00+08:00")], None),
        match=on_page("t1"),
    )

    assert [r.contract_no for r in make_client().iter_contracts()] == ["YS1", "YS2"]
    assert sleeps == [0.5, 1.0]


def test_read_timeout_and_truncated_page_are_retried(mocked, make_client, sleeps):
    add_login(mocked)
    mocked.get(CONTRACTS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    full = json.dumps(page([make_contract()], None))
    mocked.get(CONTRACTS_URL, body=full[: len(full) // 2], content_type="application/json")
    mocked.get(CONTRACTS_URL, body=full, content_type="application/json")

    assert len(list(make_client().iter_contracts())) == 1
    assert sleeps == [0.5, 1.0]


def test_retries_exhausted_raise_the_trading_networks_retriable_error(mocked, make_client, sleeps):
    add_login(mocked)
    for _ in range(4):
        mocked.get(CONTRACTS_URL, status=503)

    with pytest.raises(RetriableError) as caught:
        list(make_client().iter_contracts())

    assert isinstance(caught.value, base.RetriableError) and isinstance(caught.value, TradingNetworkError)
    assert caught.value.attempts == 4 and caught.value.status == 503
    assert sleeps == [0.5, 1.0, 2.0]


def test_rate_limited_until_the_budget_is_spent_raises_rate_limited(mocked, make_client):
    add_login(mocked)
    for _ in range(2):
        mocked.get(CONTRACTS_URL, status=429, headers={"Retry-After": "1"})

    with pytest.raises(RateLimited):
        list(make_client(retry=RetryPolicy(max_attempts=2)).iter_contracts())


def test_bad_page_token_40001_is_fatal_and_not_retried(mocked, make_client, sleeps):
    add_login(mocked)
    mocked.get(CONTRACTS_URL, json=page([make_contract()], "t1"), match=on_page())
    mocked.get(CONTRACTS_URL, status=400, json={"code": 40001, "message": "page_token 无效"}, match=on_page("t1"))

    with pytest.raises(FatalHTTPError) as caught:
        list(make_client().iter_contracts())

    assert caught.value.api_code == 40001 and "page_token 无效" in str(caught.value)
    assert sleeps == []


def test_repeated_page_token_is_refused(mocked, make_client):
    add_login(mocked)
    mocked.get(CONTRACTS_URL, json=page([make_contract("YS1")], "t1"), match=on_page(strict=True))
    mocked.get(
        CONTRACTS_URL,
        json=page([make_contract("YS2", "2026-03-21T09:00:00+08:00")], "t2"),
        match=on_page("t1", strict=True),
    )
    mocked.get(
        CONTRACTS_URL,
        json=page([make_contract("YS3", "2026-03-22T09:00:00+08:00")], "t1"),
        match=on_page("t2", strict=True),
    )

    records = []
    with pytest.raises(PaginationError, match="already handed back on page 1"):
        records.extend(make_client().iter_contracts())

    assert [r.contract_no for r in records] == ["YS1", "YS2"]  # the page with the bad token is not used


def test_listing_that_stops_advancing_is_refused_even_with_fresh_tokens(mocked, make_client):
    add_login(mocked)
    stuck = [make_contract("YS1")]
    mocked.get(CONTRACTS_URL, json=page(stuck, "t1"), match=on_page(strict=True))
    for n in range(1, 4):
        mocked.get(CONTRACTS_URL, json=page(stuck, f"t{n + 1}"), match=on_page(f"t{n}", strict=True))

    with pytest.raises(PaginationError, match="3 pages in a row with nothing new"):
        list(make_client().iter_contracts())


def test_duplicate_record_across_pages_is_yielded_once(mocked, make_client):
    add_login(mocked)
    a = make_contract("YS1", "2026-03-20T09:00:00+08:00")
    b = make_contract("YS2", "2026-03-20T10:00:00+08:00")
    c = make_contract("YS3", "2026-03-20T11:00:00+08:00")
    mocked.get(CONTRACTS_URL, json=page([a, b], "t1"), match=on_page())
    mocked.get(CONTRACTS_URL, json=page([b, c], None), match=on_page("t1"))

    records = list(make_client().iter_contracts())

    assert [r.contract_no for r in records] == ["YS1", "YS2", "YS3"]


def test_pages_report_how_many_repeated_records_they_dropped(mocked, make_client):
    add_login(mocked)
    a = make_contract("YS1", "2026-03-20T09:00:00+08:00")
    b = make_contract("YS2", "2026-03-20T10:00:00+08:00")
    mocked.get(CONTRACTS_URL, json=page([a, b], "t1"), match=on_page())
    mocked.get(CONTRACTS_URL, json=page([a, b], None), match=on_page("t1"))

    pages = list(make_client().iter_pages())

    assert [len(p.items) for p in pages] == [2, 0]
    assert [p.duplicates for p in pages] == [0, 2]


def test_same_contract_updated_during_the_sync_is_yielded_in_both_versions(mocked, make_client):
    add_login(mocked)
    old = make_contract("YS1", "2026-03-20T09:00:00+08:00")
    new = make_contract("YS1", "2026-03-20T12:00:00+08:00")
    mocked.get(CONTRACTS_URL, json=page([old], "t1"), match=on_page())
    mocked.get(CONTRACTS_URL, json=page([new], None), match=on_page("t1"))

    records = list(make_client().iter_contracts())

    assert [r.updated_at.hour for r in records] == [1, 4]


def test_malformed_records_become_quarantine_items_while_good_ones_come_through(mocked, make_client):
    add_login(mocked)
    good = make_contract("YS1", "2026-03-20T09:00:00+08:00")
    no_key = make_contract("YS2", "2026-03-20T10:00:00+08:00")
    del no_key["contract_no"]
    bad_price = make_contract("YS3", "2026-03-20T11:00:00+08:00")
    bad_price["price"]["total_price"] = "12万5千"
    bad_date = make_contract("YS4")
    bad_date["updated_at"] = "2026-02-30T25:61:00+08:00"
    last = make_contract("YS5", "2026-03-20T13:00:00+08:00")
    mocked.get(CONTRACTS_URL, json=page([good, no_key, bad_price, bad_date, "junk", last], None))

    records = list(make_client().iter_contracts())

    assert [type(r).__name__ for r in records] == ["Contract"] + ["QuarantineItem"] * 4 + ["Contract"]
    quarantined = records[1:5]
    assert [q.key for q in quarantined] == [None, "YS3", "YS4", None]
    assert "contract_no: expected a value, got nothing (the field is missing)" in quarantined[0].reason
    assert "price.total_price: expected a decimal string like '4010400.00', got '12万5千'" in quarantined[1].reason
    assert "updated_at: expected an ISO 8601 time" in quarantined[2].reason
    assert quarantined[3].reason == "expected a JSON object for a contract, got 'junk'"
    assert quarantined[1].payload is not None and quarantined[1].payload["contract_no"] == "YS3"


def test_get_contract_returns_the_parsed_detail(mocked, make_client):
    add_login(mocked)
    mocked.get(f"{CONTRACTS_URL}/YS2026P01000123", json=envelope(make_contract()))

    contract = make_client().get_contract("YS2026P01000123")

    assert isinstance(contract, Contract)
    assert contract.contract_no == "YS2026P01000123" and contract.state == "已备案"


def test_get_contract_404_is_contract_not_found_without_retry(mocked, make_client, sleeps):
    add_login(mocked)
    mocked.get(f"{CONTRACTS_URL}/YS404", status=404, json={"code": 40400, "message": "合同不存在"})

    with pytest.raises(ContractNotFound) as caught:
        make_client().get_contract("YS404")

    assert isinstance(caught.value, FatalHTTPError)
    assert "YS404" in str(caught.value) and "合同不存在" in str(caught.value)
    assert sleeps == []


def test_get_contract_that_fails_validation_raises_bad_record_with_the_quarantine_item(mocked, make_client):
    add_login(mocked)
    broken = make_contract()
    broken["state"] = "已签"
    mocked.get(f"{CONTRACTS_URL}/YS2026P01000123", json=envelope(broken))

    with pytest.raises(BadRecord) as caught:
        make_client().get_contract("YS2026P01000123")

    assert isinstance(caught.value.item, QuarantineItem)
    assert "state: expected the state of the last history entry (已备案), got 已签" in str(caught.value)


def test_envelope_with_a_non_zero_code_is_an_unexpected_response(mocked, make_client):
    add_login(mocked)
    mocked.get(CONTRACTS_URL, json=envelope(None, code=50001, message="查询失败"))

    with pytest.raises(TradingNetworkError, match="got code 50001"):
        list(make_client().iter_contracts())


def test_download_export_streams_to_disk_and_retries_a_cut_off_file(mocked, make_client, sleeps, tmp_path):
    add_login(mocked)
    book = Workbook()
    book.active.append(["合同备案信息导出"])
    data = io.BytesIO()
    book.save(data)
    export_url = f"{BASE_URL}/api/v1/contracts/export.xlsx"
    mocked.get(export_url, body=data.getvalue()[:100], match=[bearer("tok-1")])
    mocked.get(
        export_url,
        body=data.getvalue(),
        match=[matchers.query_param_matcher({"updated_since": "2026-03-31T10:00:00+08:00"})],
    )

    path = make_client().download_export(datetime(2026, 3, 31, 2, tzinfo=UTC), tmp_path / "export.xlsx")

    assert path.read_bytes() == data.getvalue()
    assert sleeps == [0.5]


def test_naive_updated_since_is_refused_before_any_request(make_client):
    with pytest.raises(ValueError, match="timezone-aware"):
        list(make_client().iter_contracts(datetime(2026, 3, 31)))


def test_paginator_remembers_a_bounded_number_of_tokens():
    paginator = PageTokenPaginator(remember=3)
    for n in range(10):
        paginator.advance(f"t{n}")

    assert len(paginator._seen) == 3
    with pytest.raises(base.PaginationError):
        paginator.advance("t9")


def test_deduplicator_holds_two_pages_of_keys_at_most():
    seen: PageBoundaryDeduplicator[int] = PageBoundaryDeduplicator()
    for start in range(0, 1000, 10):
        seen.start_page()
        assert all(seen.is_new(key) for key in range(start, start + 10))

    assert len(seen._previous) + len(seen._current) == 20


class _GeneratedGateway(requests.adapters.BaseAdapter):
    """A gateway of `total` contracts that builds each page when asked: nothing is stored."""

    def __init__(self, total: int, page_size: int) -> None:
        super().__init__()
        self.total, self.page_size = total, page_size

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code = 200
        response.request = request
        if request.url.endswith("/auth/login"):
            body = envelope({"token": "tok", "expires_in": 1800})
        else:
            query = dict(p.split("=", 1) for p in request.url.split("?", 1)[1].split("&"))
            start = int(query.get("page_token", "0"))
            stop = min(start + self.page_size, self.total)
            base_time = datetime(2026, 1, 1, tzinfo=UTC)
            items = []
            for n in range(start, stop):
                at = (base_time + timedelta(seconds=n)).astimezone().isoformat()
                items.append(make_contract(f"YS{n:08d}", at))
            body = page(items, str(stop) if stop < self.total else None, self.page_size)
        response._content = json.dumps(body).encode()
        response._content_consumed = True  # a body already read, as requests marks it (the session streams)
        return response

    def close(self):
        pass


def _peak_memory_of_sync(total: int, page_size: int = 50) -> int:
    session = requests.Session()
    session.mount(BASE_URL, _GeneratedGateway(total, page_size))
    client = TradingNetworkClient(BASE_URL, ACCOUNT, PASSWORD, page_size=page_size, session=session)
    gc.collect()
    tracemalloc.start()
    count = sum(1 for _ in client.iter_contracts())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == total
    return peak


def test_a_full_sync_runs_in_memory_that_does_not_grow_with_the_number_of_contracts():
    small = _peak_memory_of_sync(300)
    large = _peak_memory_of_sync(3_000)

    # keeping one key per contract would add ~0.5 MB here (+50%); paging in constant memory adds nothing
    assert large < small * 1.2, (small, large)


def test_pages_are_fetched_lazily(mocked, make_client):
    add_login(mocked)
    mocked.get(CONTRACTS_URL, json=page([make_contract("YS1")], "t1"), match=on_page())

    records = list(islice(make_client().iter_contracts(), 1))

    assert [r.contract_no for r in records] == ["YS1"]


def test_client_refuses_settings_outside_the_api_limits():
    with pytest.raises(ValueError, match="page_size"):
        TradingNetworkClient(BASE_URL, ACCOUNT, PASSWORD, page_size=501)
    with pytest.raises(ValueError, match="base_url"):
        TradingNetworkClient("tn.example.test", ACCOUNT, PASSWORD)


def test_token_is_renewed_before_it_expires_instead_of_waiting_for_a_401(mocked, make_client, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(client_module, "_monotonic", lambda: now[0])
    add_login(mocked, "tok-1", expires_in=1800)
    mocked.get(CONTRACTS_URL, json=page([], None), match=[bearer("tok-1")])
    add_login(mocked, "tok-2", expires_in=1800)
    mocked.get(CONTRACTS_URL, json=page([], None), match=[bearer("tok-2")])
    client = make_client()

    assert list(client.iter_contracts()) == []
    now[0] += 1800 - 59  # inside the last minute of the token's life
    assert list(client.iter_contracts()) == []
    assert client.logins == 2
