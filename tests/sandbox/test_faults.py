"""Fault injection: rule triggers, corruptions, and each kind as a client sees it over real HTTP."""

from __future__ import annotations

import http.client
import json
import time
from datetime import datetime
from email.message import Message
from pathlib import Path

import pytest
import requests

from connectors.identity import InvalidIdentifier, validate_resident_id
from sandbox.faults import BAD_DATE, DEFAULT_CORRUPTIONS, Corrupter, FaultRuleError, FaultSet, load_rules
from sandbox.http_base import Request, Response, Router, SandboxServer, json_response
from sandbox.trading_network import TradingNetworkServer
from tests.sandbox.world_fixture import resident_id, small_world

ACCOUNT, PASSWORD = "dev", "secret-for-tests"


class RecordsServer(SandboxServer):
    """A minimal server: a list page of 10 records, and a handler that fails."""

    name = "records"

    def add_routes(self, router: Router) -> None:
        router.add("GET", "/api/items", self.items)
        router.add("GET", "/api/boom", self.boom)

    def corrupter(self) -> Corrupter:
        return Corrupter(key_field="id", price_paths=("price",), id_paths=("owners[].id_number",))

    def items(self, request: Request) -> Response:
        items = [
            {
                "id": f"K{i}",
                "price": "100.00",
                "updated_at": "2026-03-01T10:00:00+08:00",
                "owners": [{"id_number": resident_id(i)}],
            }
            for i in range(10)
        ]
        return json_response({"items": items}, records=items)

    def boom(self, request: Request) -> Response:
        raise RuntimeError("handler bug")


@pytest.fixture(scope="module")
def records_server():
    with RecordsServer() as server:
        yield server


@pytest.fixture
def records(records_server):
    records_server.faults.replace([])
    records_server.stats.reset()
    yield records_server
    records_server.faults.replace([])


def set_faults(url: str, rules: list[dict], seed: int = 0) -> dict:
    response = requests.post(f"{url}/_sandbox/faults", json={"rules": rules, "seed": seed}, timeout=5)
    response.raise_for_status()
    return response.json()


# -- rules ---------------------------------------------------------------------------------------------


def fired_pattern(rules: list[dict], requests_count: int, seed: int = 0) -> list[bool]:
    faults = FaultSet(rules, seed=seed)
    return [faults.decide("GET", "/api/x") is not None for _ in range(requests_count)]


def test_faults_every_fires_on_every_nth_matching_request():
    assert fired_pattern([{"kind": "http_500", "every": 3}], 7) == [
        False,
        False,
        True,
        False,
        False,
        True,
        False,
    ]


def test_faults_after_skips_the_first_requests_and_times_caps_the_firings():
    pattern = fired_pattern([{"kind": "http_500", "after": 2, "times": 2}], 6)
    assert pattern == [False, False, True, True, False, False]


def test_faults_rate_is_deterministic_for_a_seed():
    rule = [{"kind": "http_503", "rate": 0.3}]
    first, again = fired_pattern(rule, 200, seed=5), fired_pattern(rule, 200, seed=5)
    assert first == again
    assert 30 < sum(first) < 90
    assert fired_pattern(rule, 200, seed=6) != first


def test_faults_path_prefix_and_method_select_requests():
    faults = FaultSet([{"kind": "http_500", "path": "/api/v1/contracts", "method": "GET"}])
    assert faults.decide("GET", "/api/v1/contracts/YS1") is not None
    assert faults.decide("POST", "/api/v1/contracts") is None
    assert faults.decide("POST", "/api/v1/auth/login") is None


def test_faults_never_touch_sandbox_control_paths():
    faults = FaultSet([{"kind": "down"}])
    assert faults.decide("GET", "/_sandbox/stats") is None
    assert faults.decide("GET", "/api/anything") is not None


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "explode"},
        {"kind": "http_500", "evry": 2},
        {"kind": "http_500", "every": 0},
        {"kind": "http_500", "rate": 1.5},
        {"kind": "rate_limit", "retry_after": -1},
        {"kind": "malformed", "corruptions": ["bad_id_check", "nonsense"]},
        {"kind": "http_502", "body": "xml"},
        {"kind": "slow", "path": "api"},
    ],
)
def test_faults_invalid_rule_is_refused(rule):
    with pytest.raises(FaultRuleError):
        FaultSet([rule])


def test_faults_load_rules_reads_json_text_files_lists_and_objects(tmp_path: Path):
    rules = [{"kind": "http_500", "every": 2}]
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"rules": rules, "seed": 3}), encoding="utf-8")
    assert load_rules(path) == {"rules": rules, "seed": 3}
    assert load_rules(str(path)) == {"rules": rules, "seed": 3}
    assert load_rules(json.dumps(rules)) == {"rules": rules, "seed": 0}
    assert load_rules(rules) == {"rules": rules, "seed": 0}
    assert load_rules(None) == {"rules": [], "seed": 0}


# -- corruptions ---------------------------------------------------------------------------------------


def contract_like() -> dict:
    return {
        "contract_no": "YS2026P01000001",
        "updated_at": "2026-03-01T10:00:00+08:00",
        "price": {"total_price": "4010400.00"},
        "buyers": [
            {"id_type": "统一社会信用代码", "id_number": "91440300MA5000001X"},
            {"id_type": "身份证", "id_number": resident_id(7)},
        ],
    }


CONTRACT_CORRUPTER = Corrupter(
    key_field="contract_no",
    price_paths=("price.total_price", "total_price"),
    id_paths=("buyers[].id_number",),
)


def test_faults_bad_id_check_breaks_the_gb11643_check_digit_only():
    record = contract_like()
    original = record["buyers"][1]["id_number"]
    assert CONTRACT_CORRUPTER.corrupt(record, "bad_id_check") == "bad_id_check"
    broken = record["buyers"][1]["id_number"]
    assert broken[:17] == original[:17] and broken != original
    with pytest.raises(InvalidIdentifier, match="check digit"):
        validate_resident_id(broken)


def test_faults_bad_id_check_without_a_resident_id_falls_back_to_bad_date():
    record = {"contract_no": "YS1", "updated_at": "2026-03-01T10:00:00+08:00", "total_price": "1.00"}
    assert CONTRACT_CORRUPTER.corrupt(record, "bad_id_check") == "bad_date"
    assert record["updated_at"] == BAD_DATE


def test_faults_other_corruptions_each_break_one_field():
    record = contract_like()
    CONTRACT_CORRUPTER.corrupt(record, "missing_key")
    assert "contract_no" not in record
    record = contract_like()
    CONTRACT_CORRUPTER.corrupt(record, "bad_date")
    with pytest.raises(ValueError):
        datetime.fromisoformat(record["updated_at"])
    record = contract_like()
    CONTRACT_CORRUPTER.corrupt(record, "negative_price")
    assert record["price"]["total_price"] == "-4010400.00"
    summary = {"contract_no": "YS1", "total_price": "4010400.00", "updated_at": "2026-03-01T10:00:00+08:00"}
    CONTRACT_CORRUPTER.corrupt(summary, "non_numeric_price")
    with pytest.raises(ValueError):
        float(summary["total_price"])


# -- over HTTP: the base's answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "status", "content_type"),
    [
        ("http_500", None, 500, "application/json"),
        ("http_500", "html", 500, "text/html"),
        ("http_502", None, 502, "text/html"),
        ("http_503", "json", 503, "application/json"),
        ("down", None, 503, "text/html"),
    ],
)
def test_faults_error_kinds_answer_with_their_status_and_body(records, kind, body, status, content_type):
    rule = {"kind": kind, "times": 1} | ({"body": body} if body else {})
    set_faults(records.url, [rule])
    first = requests.get(f"{records.url}/api/items", timeout=5)
    assert first.status_code == status
    assert first.headers["Content-Type"].startswith(content_type)
    if content_type == "application/json":
        assert first.json()["code"] == status * 100
    assert requests.get(f"{records.url}/api/items", timeout=5).status_code == 200


def test_faults_down_answers_503_to_every_request_until_cleared(records):
    set_faults(records.url, [{"kind": "down"}])
    assert [requests.get(f"{records.url}/api/items", timeout=5).status_code for _ in range(3)] == [503] * 3
    set_faults(records.url, [])
    assert requests.get(f"{records.url}/api/items", timeout=5).status_code == 200


def test_faults_rate_limit_answers_429_with_retry_after(records):
    set_faults(records.url, [{"kind": "rate_limit", "every": 2, "retry_after": 7}])
    statuses = []
    for _ in range(4):
        response = requests.get(f"{records.url}/api/items", timeout=5)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "7"
            assert response.json()["code"] == 42900
    assert statuses == [200, 429, 200, 429]


def test_faults_slow_answers_after_the_client_timeout(records):
    set_faults(records.url, [{"kind": "slow", "delay": 1.0, "times": 1}])
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(f"{records.url}/api/items", timeout=0.3)
    assert time.monotonic() - started < 0.9
    assert requests.get(f"{records.url}/api/items", timeout=5).status_code == 200


def test_faults_truncate_cuts_the_body_and_closes_the_connection(records):
    set_faults(records.url, [{"kind": "truncate", "times": 1}])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{records.url}/api/items", timeout=5)
    raw = requests.get(f"{records.url}/api/items", timeout=5)
    assert raw.status_code == 200 and len(raw.json()["items"]) == 10


def test_faults_truncated_body_is_cut_inside_the_json(records):
    set_faults(records.url, [{"kind": "truncate", "times": 1, "keep": 0.5}])
    host, port = records.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/api/items")
    response = conn.getresponse()
    declared = int(response.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    conn.close()
    assert len(cut.value.partial) == declared // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.value.partial)


def test_faults_malformed_corrupts_the_chosen_records_and_reports_them(records):
    set_faults(records.url, [{"kind": "malformed", "count": 5}], seed=11)
    items = requests.get(f"{records.url}/api/items", timeout=5).json()["items"]
    report = requests.get(f"{records.url}/_sandbox/faults", timeout=5).json()
    corrupted = report["corrupted"]
    assert [c["corruption"] for c in corrupted] == list(DEFAULT_CORRUPTIONS)
    for entry in corrupted:
        item = items[entry["index"]]
        assert entry["key"] == f"K{entry['index']}"
        if entry["corruption"] == "missing_key":
            assert "id" not in item
        elif entry["corruption"] == "bad_date":
            assert item["updated_at"] == BAD_DATE
        elif entry["corruption"] == "bad_id_check":
            with pytest.raises(InvalidIdentifier):
                validate_resident_id(item["owners"][0]["id_number"])
        else:
            assert item["price"] in ("-100.00", "12万5千")
    untouched = [i for i in range(10) if i not in {c["index"] for c in corrupted}]
    assert all(items[i]["price"] == "100.00" and items[i]["updated_at"] != BAD_DATE for i in untouched)


def test_faults_malformed_picks_the_same_records_for_the_same_seed(records):
    picks = []
    for _ in range(2):
        set_faults(records.url, [{"kind": "malformed", "count": 3}], seed=4)
        requests.get(f"{records.url}/api/items", timeout=5)
        picks.append(requests.get(f"{records.url}/_sandbox/faults", timeout=5).json()["corrupted"])
    assert picks[0] == picks[1]


def test_faults_status_shows_counters_and_stats_count_fired_kinds(records):
    set_faults(records.url, [{"kind": "http_502", "every": 2}])
    for _ in range(4):
        requests.get(f"{records.url}/api/items", timeout=5)
    rules = requests.get(f"{records.url}/_sandbox/faults", timeout=5).json()["rules"]
    assert rules[0]["matched"] == 4 and rules[0]["fired"] == 2
    stats = requests.get(f"{records.url}/_sandbox/stats", timeout=5).json()
    assert stats["requests"]["/api/items"] == {"200": 2, "502": 2}
    assert stats["faults"] == {"http_502": 2}


def test_faults_post_with_a_bad_rule_is_400_and_keeps_the_old_rules(records):
    set_faults(records.url, [{"kind": "http_500", "every": 5}])
    response = requests.post(f"{records.url}/_sandbox/faults", json={"rules": [{"kind": "nope"}]}, timeout=5)
    assert response.status_code == 400
    assert "kind must be one of" in response.json()["message"]
    assert requests.get(f"{records.url}/_sandbox/faults", timeout=5).json()["rules"][0]["kind"] == "http_500"


def test_faults_given_at_start_apply_from_the_first_request():
    with RecordsServer(faults=json.dumps([{"kind": "http_503", "times": 1}])) as server:
        assert requests.get(f"{server.url}/api/items", timeout=5).status_code == 503
        assert requests.get(f"{server.url}/api/items", timeout=5).status_code == 200


def test_server_handler_exception_is_a_logged_500(records, caplog):
    with caplog.at_level("ERROR", logger="sandbox.http_base"):
        response = requests.get(f"{records.url}/api/boom", timeout=5)
    assert response.status_code == 500
    assert response.json()["code"] == 50000
    assert "handler of GET /api/boom failed" in caplog.text
    assert "handler bug" in caplog.text  # the traceback
    assert requests.get(f"{records.url}/api/items", timeout=5).status_code == 200


def test_server_stop_ends_kept_alive_connections():
    server = RecordsServer().start()
    session = requests.Session()
    assert session.get(f"{server.url}/api/items", timeout=5).status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(f"{server.url}/api/items", timeout=5)


def test_server_control_paths_answer_only_loopback_clients(records):
    headers = Message()
    remote = Request("GET", "/_sandbox/stats", {}, headers, b"", client="10.1.2.3")
    assert records.handle(remote).status == 403
    local = Request("GET", "/_sandbox/stats", {}, headers, b"", client="127.0.0.1")
    assert records.handle(local).status == 200


# -- over HTTP: faults that need the trading network ---------------------------------------------------


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    world = small_world(tmp_path_factory.mktemp("world") / "world.db")
    with TradingNetworkServer(world, account=ACCOUNT, password=PASSWORD) as server:
        yield server


def login(url: str) -> dict[str, str]:
    response = requests.post(f"{url}/api/v1/auth/login", json={"account": ACCOUNT, "password": PASSWORD}, timeout=5)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['data']['token']}"}


def list_page(url: str, headers: dict, **params) -> requests.Response:
    return requests.get(f"{url}/api/v1/contracts", params=params, headers=headers, timeout=5)


def test_faults_duplicate_repeats_the_last_record_of_the_previous_page(network):
    headers = login(network.url)
    set_faults(network.url, [{"kind": "duplicate", "path": "/api/v1/contracts"}])
    first = list_page(network.url, headers, page_size=5).json()["data"]
    second = list_page(network.url, headers, page_size=5, page_token=first["next_page_token"]).json()["data"]
    set_faults(network.url, [])
    assert second["items"][0] == first["items"][-1]
    assert len(second["items"]) == 5
    clean = list_page(network.url, headers, page_size=5, page_token=first["next_page_token"]).json()["data"]
    assert [i["contract_no"] for i in second["items"][1:]] == [i["contract_no"] for i in clean["items"][:4]]


def test_faults_duplicate_pages_still_cover_every_contract(network):
    headers = login(network.url)
    set_faults(network.url, [{"kind": "duplicate", "path": "/api/v1/contracts"}])
    seen, token = [], None
    while True:
        params = {"page_size": 3} | ({"page_token": token} if token else {})
        data = list_page(network.url, headers, **params).json()["data"]
        seen += [i["contract_no"] for i in data["items"]]
        token = data["next_page_token"]
        if token is None:
            break
    set_faults(network.url, [])
    assert len(set(seen)) == 20
    assert len(seen) > 20


def test_faults_malformed_on_contract_pages_breaks_the_named_fields(network):
    headers = login(network.url)
    set_faults(network.url, [{"kind": "malformed", "count": 5, "path": "/api/v1/contracts"}], seed=2)
    items = list_page(network.url, headers, page_size=20, expand="detail").json()["data"]["items"]
    corrupted = requests.get(f"{network.url}/_sandbox/faults", timeout=5).json()["corrupted"]
    set_faults(network.url, [])
    assert [c["corruption"] for c in corrupted] == list(DEFAULT_CORRUPTIONS)
    by_kind = {c["corruption"]: items[c["index"]] for c in corrupted}
    assert "contract_no" not in by_kind["missing_key"]
    assert by_kind["bad_date"]["updated_at"] == BAD_DATE
    assert by_kind["negative_price"]["price"]["total_price"].startswith("-")
    assert by_kind["non_numeric_price"]["price"]["total_price"] == "12万5千"
    ids = [b["id_number"] for b in by_kind["bad_id_check"]["buyers"] if b["id_type"] == "身份证"]
    with pytest.raises(InvalidIdentifier):
        validate_resident_id(ids[0])


def test_faults_expire_tokens_once_makes_the_current_token_expired(network):
    headers = login(network.url)
    set_faults(network.url, [{"kind": "expire_tokens", "path": "/api/v1/contracts", "times": 1}])
    expired = list_page(network.url, headers)
    assert expired.status_code == 401 and expired.json()["code"] == 40102
    assert list_page(network.url, headers).json()["code"] == 40102
    fresh = login(network.url)
    assert list_page(network.url, fresh).status_code == 200
    set_faults(network.url, [])


def test_faults_expire_tokens_every_n_requests(network):
    set_faults(network.url, [{"kind": "expire_tokens", "path": "/api/v1/contracts", "every": 3}])
    headers = login(network.url)
    statuses = []
    for _ in range(6):
        response = list_page(network.url, headers, page_size=1)
        statuses.append(response.status_code)
        if response.status_code == 401:
            headers = login(network.url)
    set_faults(network.url, [])
    assert statuses == [200, 200, 401, 200, 200, 401]
