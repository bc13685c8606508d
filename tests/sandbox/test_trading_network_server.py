"""The trading network server over real loopback HTTP, on hand-made worlds (tests/sandbox/world_fixture)."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
import requests
from openpyxl import load_workbook

from connectors.identity import mask_id
from estatehub.settings import BUSINESS_TZ, PROJECT_ROOT
from sandbox.trading_network import TradingNetworkServer
from sandbox.trading_network.export import HEADER
from tests.sandbox.world_fixture import (
    ADVANCING_CONTRACT,
    LATE_CONTRACT,
    bj,
    event_times,
    small_world,
    small_world_docs,
    synthetic_world,
)

ACCOUNT, PASSWORD = "dev", "secret-for-tests"
SUMMARY_KEYS = {"contract_no", "contract_type", "state", "updated_at", "house_id", "total_price"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return small_world(tmp_path_factory.mktemp("world") / "world.db")


@pytest.fixture(scope="module")
def running(world):
    with TradingNetworkServer(world, account=ACCOUNT, password=PASSWORD) as server:
        yield server


@pytest.fixture
def server(running):
    """The module's server, at the world's end, without faults."""
    yield running
    running.faults.replace([])
    running.store.set_clock(running.store.world_end)


@pytest.fixture
def auth(server):
    return login(server.url)


def login(url: str, account: str = ACCOUNT, password: str = PASSWORD) -> dict[str, str]:
    response = requests.post(f"{url}/api/v1/auth/login", json={"account": account, "password": password}, timeout=5)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['data']['token']}"}


def get(server, path: str, headers: dict | None = None, **params) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, headers=headers, timeout=10)


def all_pages(server, headers, **params) -> list[dict]:
    items, token, tokens = [], None, set()
    while True:
        query = dict(params) | ({"page_token": token} if token else {})
        response = get(server, "/api/v1/contracts", headers, **query)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        items += data["items"]
        token = data["next_page_token"]
        if token is None:
            return items
        assert token not in tokens, "the server repeated a page token"
        tokens.add(token)


def set_clock(server, when: datetime) -> None:
    response = requests.post(f"{server.url}/_sandbox/clock", json={"now": when.isoformat()}, timeout=10)
    response.raise_for_status()


def order_key(item: dict) -> tuple[datetime, str]:
    return datetime.fromisoformat(item["updated_at"]), item["contract_no"]


# -- auth ----------------------------------------------------------------------------------------------


def test_server_login_returns_a_token_and_its_lifetime(server):
    response = requests.post(
        f"{server.url}/api/v1/auth/login", json={"account": ACCOUNT, "password": PASSWORD}, timeout=5
    )
    body = response.json()
    assert response.status_code == 200
    assert body["code"] == 0 and body["message"] == "ok"
    assert body["data"]["expires_in"] == 1800
    assert len(body["data"]["token"]) > 20


@pytest.mark.parametrize(
    "credentials", [{"account": ACCOUNT, "password": "wrong"}, {"account": "x", "password": PASSWORD}]
)
def test_server_login_with_wrong_credentials_is_401_code_40101(server, credentials):
    response = requests.post(f"{server.url}/api/v1/auth/login", json=credentials, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"code": 40101, "message": "账号或密码错误", "data": None}


@pytest.mark.parametrize("headers", [None, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}])
def test_server_call_without_a_known_token_is_401_code_40100(server, headers):
    for path in (
        "/api/v1/contracts",
        f"/api/v1/contracts/{ADVANCING_CONTRACT}",
        "/api/v1/contracts/export.xlsx",
    ):
        response = get(server, path, headers)
        assert response.status_code == 401
        assert response.json()["code"] == 40100


def test_server_token_expires_after_its_ttl_with_code_40102(world):
    with TradingNetworkServer(world, account=ACCOUNT, password=PASSWORD, token_ttl=0.5) as short:
        headers = login(short.url)
        assert get(short, "/api/v1/contracts", headers).status_code == 200
        time.sleep(0.6)
        response = get(short, "/api/v1/contracts", headers)
        assert response.status_code == 401
        assert response.json() == {"code": 40102, "message": "令牌已过期", "data": None}
        assert get(short, "/api/v1/contracts", login(short.url)).status_code == 200


# -- the list ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 3, 7, 20, 500])
def test_server_pages_cover_every_visible_contract_exactly_once_in_order(server, auth, page_size):
    items = all_pages(server, auth, page_size=page_size)
    numbers = [i["contract_no"] for i in items]
    assert sorted(numbers) == sorted(d["contract_no"] for d in small_world_docs())
    assert len(numbers) == len(set(numbers))
    assert items == sorted(items, key=order_key)


def test_server_pages_are_stable_across_repeats(server, auth):
    first = get(server, "/api/v1/contracts", auth, page_size=4).json()["data"]
    again = get(server, "/api/v1/contracts", auth, page_size=4).json()["data"]
    assert first == again
    assert all_pages(server, auth, page_size=6) == all_pages(server, auth, page_size=6)


def test_server_contracts_of_the_same_second_are_ordered_by_contract_no(server, auth):
    items = all_pages(server, auth, page_size=2)
    same = [i["contract_no"] for i in items if i["updated_at"] == "2026-02-14T10:00:00+08:00"]
    assert same == ["YS2026P01000006", "YS2026P01000007", "YS2026P01000008"]


def test_server_list_items_are_summaries_unless_expanded(server, auth):
    summary = get(server, "/api/v1/contracts", auth, page_size=5).json()["data"]
    assert summary["page_size"] == 5
    assert all(set(item) == SUMMARY_KEYS for item in summary["items"])
    detail = get(server, "/api/v1/contracts", auth, page_size=5, expand="detail").json()["data"]
    for short, full in zip(summary["items"], detail["items"], strict=True):
        assert {"buyers", "payment_plan", "history", "house", "price"} <= set(full)
        assert full == get(server, f"/api/v1/contracts/{short['contract_no']}", auth).json()["data"]


def test_server_updated_since_is_inclusive(server, auth):
    items = all_pages(server, auth, page_size=50)
    pivot = items[len(items) // 2]
    since = all_pages(server, auth, page_size=4, updated_since=pivot["updated_at"])
    assert since == [i for i in items if order_key(i)[0] >= order_key(pivot)[0]]
    assert since[0]["updated_at"] == pivot["updated_at"]
    later = (datetime.fromisoformat(pivot["updated_at"]) + timedelta(seconds=1)).isoformat()
    assert pivot["contract_no"] not in [i["contract_no"] for i in all_pages(server, auth, updated_since=later)]


def test_server_updated_since_in_another_offset_means_the_same_instant(server, auth):
    beijing = get(server, "/api/v1/contracts", auth, updated_since="2026-02-14T10:00:00+08:00").json()["data"]
    utc = get(server, "/api/v1/contracts", auth, updated_since="2026-02-14T02:00:00+00:00").json()["data"]
    assert beijing["items"] == utc["items"]
    assert beijing["items"][0]["contract_no"] == "YS2026P01000006"


def test_server_page_size_defaults_to_200_and_must_be_1_to_500(server, auth):
    assert get(server, "/api/v1/contracts", auth).json()["data"]["page_size"] == 200
    for bad in ("0", "501", "ten"):
        response = get(server, "/api/v1/contracts", auth, page_size=bad)
        assert response.status_code == 400
        assert response.json()["code"] == 40000


def test_server_unparsable_updated_since_is_400(server, auth):
    response = get(server, "/api/v1/contracts", auth, updated_since="yesterday")
    assert response.status_code == 400 and response.json()["code"] == 40000


def test_server_bad_page_token_is_400_code_40001(server, auth):
    token = get(server, "/api/v1/contracts", auth, page_size=2).json()["data"]["next_page_token"]
    body, _, signature = token.partition(".")
    for bad in ("garbage", token[:-1] + ("0" if token[-1] != "0" else "1"), f"{body[:-2]}AA.{signature}"):
        response = get(server, "/api/v1/contracts", auth, page_size=2, page_token=bad)
        assert response.status_code == 400
        assert response.json()["code"] == 40001


def test_server_page_token_is_bound_to_updated_since(server, auth):
    since = "2026-01-01T00:00:00+08:00"
    token = get(server, "/api/v1/contracts", auth, page_size=2, updated_since=since).json()["data"]["next_page_token"]
    assert get(server, "/api/v1/contracts", auth, page_size=2, updated_since=since, page_token=token).status_code == 200
    for other in ({}, {"updated_since": "2026-01-02T00:00:00+08:00"}):
        response = get(server, "/api/v1/contracts", auth, page_size=2, page_token=token, **other)
        assert response.status_code == 400 and response.json()["code"] == 40001


# -- detail ---------------------------------------------------------------------------------------------


def test_server_contract_detail_is_the_full_contract(server, auth):
    response = get(server, f"/api/v1/contracts/{ADVANCING_CONTRACT}", auth)
    contract = response.json()["data"]
    assert response.status_code == 200
    assert contract["contract_no"] == ADVANCING_CONTRACT
    assert [h["state"] for h in contract["history"]] == ["待签", "已签", "已备案"]
    assert contract["registration"]["status"] == "已领证"


def test_server_unknown_contract_is_404(server, auth):
    response = get(server, "/api/v1/contracts/YS0000000000000", auth)
    assert response.status_code == 404 and response.json()["code"] == 40400


# -- the clock -----------------------------------------------------------------------------------------


def test_server_clock_starts_at_the_world_end(server):
    assert requests.get(f"{server.url}/_sandbox/clock", timeout=5).json() == {"now": "2026-03-31T23:59:59+08:00"}


def test_server_clock_move_makes_a_new_contract_appear(server, auth):
    set_clock(server, bj("2026-03-10 09:59:59"))
    assert LATE_CONTRACT not in [i["contract_no"] for i in all_pages(server, auth)]
    assert get(server, f"/api/v1/contracts/{LATE_CONTRACT}", auth).status_code == 404
    set_clock(server, bj("2026-03-10 10:00"))
    assert LATE_CONTRACT in [i["contract_no"] for i in all_pages(server, auth)]
    assert get(server, f"/api/v1/contracts/{LATE_CONTRACT}", auth).json()["data"]["state"] == "待签"


def test_server_clock_moves_advance_and_rewind_a_contract_state(server, auth):
    def state_at(when: str) -> tuple[str, str]:
        set_clock(server, bj(when))
        listed = {i["contract_no"]: i for i in all_pages(server, auth, page_size=3)}[ADVANCING_CONTRACT]
        detail = get(server, f"/api/v1/contracts/{ADVANCING_CONTRACT}", auth).json()["data"]
        assert listed["state"] == detail["state"]
        registration = detail["registration"]["status"] if detail["registration"] else None
        return detail["state"], registration

    assert state_at("2026-01-11 00:00") == ("待签", None)
    assert state_at("2026-01-13 00:00") == ("已签", None)
    assert state_at("2026-02-02 00:00") == ("已备案", None)
    assert state_at("2026-03-15 00:00") == ("已备案", "办理中")
    assert state_at("2026-03-25 00:00") == ("已备案", "已领证")
    assert state_at("2026-01-13 00:00") == ("已签", None)  # back in time


def test_server_clock_move_forward_lists_only_the_changes_since(server, auth):
    since, now = bj("2026-02-01 00:00"), bj("2026-02-12 00:00")
    set_clock(server, since)
    before = {i["contract_no"] for i in all_pages(server, auth)}
    set_clock(server, now)
    changed = all_pages(server, auth, updated_since=since.isoformat())
    expected = {
        doc["contract_no"]
        for doc in small_world_docs()
        if any(since <= datetime.fromisoformat(at) <= now for at in event_times(doc))
    }
    assert {i["contract_no"] for i in changed} == expected
    assert {"YS2026P01000003", "YS2026P01000004"} <= expected
    assert "YS2026P01000004" not in before


def test_server_bad_clock_is_400(server):
    response = requests.post(f"{server.url}/_sandbox/clock", json={"now": "soon"}, timeout=5)
    assert response.status_code == 400


# -- export ---------------------------------------------------------------------------------------------


def test_server_export_opens_with_openpyxl_and_has_the_documented_layout(server, auth):
    response = get(server, "/api/v1/contracts/export.xlsx", auth)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["合同列表"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "合同备案信息导出"
    assert rows[1][0] == "导出时间：2026-03-31 23:59:59"
    assert rows[2] == HEADER
    body = [dict(zip(HEADER, row, strict=True)) for row in rows[3:]]
    assert len(body) == 20
    advancing = next(r for r in body if r["合同编号"] == ADVANCING_CONTRACT)
    detail = get(server, f"/api/v1/contracts/{ADVANCING_CONTRACT}", auth).json()["data"]
    assert advancing["签约时间"] == "2026-01-12 14:03:00"
    assert advancing["成交总价"] == detail["price"]["total_price"]
    assert advancing["买受人"] == "、".join(b["name"] for b in detail["buyers"])
    assert advancing["证件号码"] == "、".join(mask_id(b["id_number"]) for b in detail["buyers"])
    assert all(detail_id["id_number"] not in response.content.decode("latin-1") for detail_id in detail["buyers"])


def test_server_export_honours_updated_since(server, auth):
    since = "2026-03-01T00:00:00+08:00"
    response = get(server, "/api/v1/contracts/export.xlsx", auth, updated_since=since)
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True)["合同列表"].iter_rows(values_only=True))
    listed = all_pages(server, auth, updated_since=since)
    assert [r[0] for r in rows[3:]] == [i["contract_no"] for i in listed]


# -- the base: keep-alive, stats, unknown paths --------------------------------------------------------


def test_server_keeps_the_connection_alive_between_requests(server, auth):
    host, port = server.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/api/v1/contracts?page_size=2", headers=auth)
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    conn.request("GET", f"/api/v1/contracts/{ADVANCING_CONTRACT}", headers=auth)
    second = conn.getresponse()
    assert json.loads(second.read())["data"]["contract_no"] == ADVANCING_CONTRACT
    assert first.status == second.status == 200
    assert not first.will_close and conn.sock is sock
    conn.close()


def test_server_counts_requests_by_route_and_status(server, auth):
    requests.delete(f"{server.url}/_sandbox/stats", timeout=5)
    get(server, "/api/v1/contracts", auth)
    get(server, "/api/v1/contracts/YS2026P01000002", auth)
    get(server, "/api/v1/contracts/NOPE", auth)
    get(server, "/api/v1/nothing-here", auth)
    stats = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()
    assert stats["requests"] == {
        "/api/v1/contracts": {"200": 1},
        "/api/v1/contracts/{contract_no}": {"200": 1, "404": 1},
        "(unmatched)": {"404": 1},
    }
    assert stats["total"] == 4


def test_server_wrong_method_is_405(server, auth):
    response = requests.delete(f"{server.url}/api/v1/contracts", headers=auth, timeout=5)
    assert response.status_code == 405


def test_server_access_log_never_shows_tokens_or_query_strings(server, auth, caplog):
    with caplog.at_level("DEBUG", logger="sandbox.access"):
        get(server, "/api/v1/contracts", auth, updated_since="2026-03-01T00:00:00+08:00")
        deadline = time.monotonic() + 2  # the server logs just after it answered
        while "GET /api/v1/contracts 200" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "GET /api/v1/contracts 200" in caplog.text
    assert auth["Authorization"].split()[1] not in caplog.text
    assert "updated_since" not in caplog.text


# -- scale ---------------------------------------------------------------------------------------------


def test_server_serves_a_1000_contract_world_in_detailed_pages(tmp_path):
    world = synthetic_world(tmp_path / "world.db", 1000)
    with TradingNetworkServer(world, account=ACCOUNT, password=PASSWORD) as big:
        session = requests.Session()
        session.headers.update(login(big.url))
        items, token = [], None
        while True:
            params = {"page_size": 200, "expand": "detail"} | ({"page_token": token} if token else {})
            data = session.get(f"{big.url}/api/v1/contracts", params=params, timeout=30).json()["data"]
            items += data["items"]
            token = data["next_page_token"]
            if not token:
                break
        assert len({i["contract_no"] for i in items}) == len(items) == 1000
        assert items == sorted(items, key=order_key)
        assert big.store.visible_count() == 1000


def test_server_lists_a_generated_world_consistently_at_every_clock(tmp_path):
    from sandbox.world import generate_world

    world = generate_world(tmp_path / "generated.db", units=120, seed=3).path
    with TradingNetworkServer(world, account=ACCOUNT, password=PASSWORD) as generated:
        headers = login(generated.url)
        sizes = []
        for day in ("2025-03-01", "2025-09-01", "2026-01-01", "2025-06-01"):
            set_clock(generated, bj(f"{day} 18:00"))
            items = all_pages(generated, headers, page_size=17, expand="detail")
            with generated.store.reading() as (conn, _):
                visible = dict(conn.execute("select contract_no, updated_at from visible"))
            assert sorted(i["contract_no"] for i in items) == sorted(visible)
            assert items == sorted(items, key=order_key)
            for item in items:
                assert datetime.fromisoformat(item["updated_at"]) == datetime.fromisoformat(
                    visible[item["contract_no"]]
                )
            sizes.append(len(items))
        assert sizes[0] < sizes[1] < sizes[2]


# -- serve() and the foreground process ----------------------------------------------------------------


def test_server_set_started_by_serve_reports_its_urls(world):
    from sandbox.serve import serve

    with serve(world, account=ACCOUNT, password=PASSWORD, faults=[{"kind": "http_503", "times": 1}]) as running:
        url = running.urls["trading_network"]
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/api/v1/contracts", timeout=5).status_code == 503
        assert requests.get(f"{url}/api/v1/contracts", headers=login(url), timeout=5).status_code == 200


def test_server_process_prints_ready_and_stops_on_sigterm(world):
    env = os.environ | {"PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", str(world), "--clock", "2026-02-01T00:00:00+08:00"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
    )
    try:
        lines = []
        while (line := process.stdout.readline().strip()) != "READY":
            assert line, "the process ended before READY"
            lines.append(line)
        name, _, url = lines[0].partition("=")
        assert name == "trading_network"
        clock = requests.get(f"{url}/_sandbox/clock", timeout=5).json()["now"]
        assert clock == datetime(2026, 2, 1, tzinfo=BUSINESS_TZ).isoformat()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
