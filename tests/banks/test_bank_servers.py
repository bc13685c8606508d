"""The bank servers over real loopback HTTP: signature checks, the clock, files, landing, ground truth."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from urllib.parse import urlsplit

import pytest
import requests

from connectors.banks import signing
from connectors.banks.statements import StatementReader
from estatehub.settings import BUSINESS_TZ
from sandbox.banks import files


def signed_get(
    servers,
    code: str,
    path: str,
    params: dict | None = None,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> requests.Response:
    credentials = servers.credentials[code]
    request = requests.Request("GET", servers.urls[code] + path, params=params).prepare()
    sent = urlsplit(request.url)  # the path as sent: percent-encoded
    headers = signing.signature_headers(
        secret or credentials.secret,
        "GET",
        sent.path,
        sent.query,
        b"",
        app_id=credentials.app_id,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        nonce=nonce or signing_nonce(),
    )
    return requests.get(servers.urls[code] + path, params=params, headers=headers, timeout=5)


_counter = iter(range(1, 10**9))


def signing_nonce() -> str:
    return f"{time.time_ns():x}{next(_counter):08x}".rjust(32, "0")


def set_clock(servers, code: str, text: str) -> None:
    response = requests.post(servers.urls[code] + "/_sandbox/clock", json={"now": text}, timeout=5)
    assert response.status_code == 200


def test_a_signed_request_is_answered(banks):
    response = signed_get(banks, "icbc", "/api/icbc/v1/loans", {"page_no": 1, "page_size": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["return_code"] == "0" and len(body["data"]["records"]) == 5


def test_a_bad_signature_is_refused_with_its_own_code(banks):
    response = signed_get(banks, "icbc", "/api/icbc/v1/loans", secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["return_code"] == "40103"


def test_a_reused_nonce_is_refused_with_its_own_code(banks):
    nonce = signing_nonce()
    assert signed_get(banks, "cmb", "/cmb/api/mortgage/v2/applications", nonce=nonce).status_code == 200
    again = signed_get(banks, "cmb", "/cmb/api/mortgage/v2/applications", nonce=nonce)
    assert again.status_code == 401
    assert again.json()["errorCode"] == "40104"


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_outside_five_minutes_is_refused_with_the_banks_time(banks, offset):
    before = int(time.time())
    response = signed_get(banks, "icbc", "/api/icbc/v1/loans", timestamp=before + offset)
    assert response.status_code == 401
    assert response.json()["return_code"] == "40105"
    assert abs(int(response.headers[signing.HEADER_SERVER_TIME]) - before) <= 2


def test_a_timestamp_within_five_minutes_is_accepted(banks):
    response = signed_get(banks, "icbc", "/api/icbc/v1/loans", timestamp=int(time.time()) - 250)
    assert response.status_code == 200


def test_an_unknown_app_id_is_refused(banks):
    response = requests.get(banks.urls["hpf"] + "/hpf/api/loan-lists", timeout=5)
    assert response.status_code == 401 and response.json()["code"] == 40106


def test_the_skew_control_moves_the_banks_signature_clock(banks):
    requests.post(banks.urls["icbc"] + "/_sandbox/skew", json={"seconds": 900}, timeout=5)
    response = signed_get(banks, "icbc", "/api/icbc/v1/loans")
    assert response.json()["return_code"] == "40105"
    assert int(response.headers[signing.HEADER_SERVER_TIME]) - time.time() > 890


def test_a_days_file_is_published_at_six_the_next_morning(banks):
    path, params = "/api/icbc/v1/statements", {"date_from": "20250301", "date_to": "20250301"}
    set_clock(banks, "icbc", "2025-03-02T05:59:00+08:00")
    assert signed_get(banks, "icbc", path, params).json()["data"]["files"] == []
    set_clock(banks, "icbc", "2025-03-02T06:00:00+08:00")
    listed = signed_get(banks, "icbc", path, params).json()["data"]["files"]
    # one file a day for each account the bank holds: the general account and a permit's supervised one
    assert [item["file_name"] for item in listed] == [
        "ICBC_4000021209200123456_20250301.csv",
        "ICBC_4000021209302520181_20250301.csv",
    ]


def test_loans_appear_and_move_as_the_clock_moves(banks, bank_world):
    path = "/cmb/api/mortgage/v2/applications"
    set_clock(banks, "cmb", "2025-01-01T00:00:00+08:00")
    assert signed_get(banks, "cmb", path).json()["data"] == []
    set_clock(banks, "cmb", "2025-09-01T00:00:00+08:00")
    early = {item["applicationId"]: item for item in signed_get(banks, "cmb", path, {"limit": 200}).json()["data"]}
    set_clock(banks, "cmb", "2026-06-30T23:59:59+08:00")
    late = {item["applicationId"]: item for item in signed_get(banks, "cmb", path, {"limit": 200}).json()["data"]}
    assert early and set(early) < set(late)
    assert all(item["updatedAt"] < "2025-09-01" for item in early.values())
    assert any(late[number]["stage"] != item["stage"] for number, item in early.items())


def test_a_corrected_file_follows_the_first_a_day_later_with_the_missing_line(banks, bank_world, tmp_path):
    rows = bank_world._query(
        "select c.booked_on, c.account_no, a.bank from corrections c join accounts a using (account_no)"
        " order by c.booked_on limit 1"
    )
    day, account, bank = date.fromisoformat(rows[0][0]), rows[0][1], rows[0][2]
    server = banks.servers[bank]
    next_morning = datetime.combine(day + timedelta(days=1), dtime(7)).replace(tzinfo=BUSINESS_TZ)
    server.world.set_clock(next_morning)
    assert [f.version for f in server.listing(day, day) if f.account_no == account] == [1]
    server.world.set_clock(next_morning + timedelta(days=1))
    versions = [f for f in server.listing(day, day) if f.account_no == account]
    assert [f.version for f in versions] == [1, 2]
    first = tmp_path / files.file_name(bank, account, day, day, 1)
    second = tmp_path / files.file_name(bank, account, day, day, 2)
    first.write_bytes(server.statement_bytes(first.name))
    second.write_bytes(server.statement_bytes(second.name))
    one, two = list(StatementReader(first, bank=bank)), list(StatementReader(second, bank=bank))
    assert len(two) == len(one) + 1
    assert {line.line_key for line in one} < {line.line_key for line in two}


def test_landing_writes_the_published_files_into_a_folder(banks, bank_world, tmp_path):
    response = requests.post(
        banks.urls["ccb"] + "/_sandbox/landing",
        json={"folder": str(tmp_path / "ccb"), "date_from": "20250401", "date_to": "20250407"},
        timeout=10,
    )
    names = response.json()["files"]
    assert len(names) >= 7 and all(name.endswith(".xls") for name in names)
    assert sorted(path.name for path in (tmp_path / "ccb").iterdir()) == sorted(names)
    for path in (tmp_path / "ccb").iterdir():
        reader = StatementReader(path, bank="ccb")
        list(reader)
        reader.check_totals()
        assert reader.account_no in {account["account_no"] for account in bank_world.bank_accounts("ccb")}


def test_the_fund_centre_publishes_a_daily_loan_list(banks, tmp_path):
    listed = signed_get(banks, "hpf", "/hpf/api/loan-lists", {"date_from": "20250601", "date_to": "20250603"})
    data = listed.json()["data"]
    assert [item["date"] for item in data] == ["2025-06-01", "2025-06-02", "2025-06-03"]
    download = signed_get(banks, "hpf", "/hpf/api/loan-lists/" + data[-1]["file_name"])
    assert download.status_code == 200 and download.content[:2] == b"PK"


def test_the_ground_truth_is_served_per_bank(banks):
    rows = requests.get(banks.urls["icbc"] + "/_sandbox/truth", timeout=5).json()["rows"]
    assert rows and {row["bank"] for row in rows} == {"icbc"}
