"""The shared HTTP session: what is retried, how long it waits, what is fatal, what it logs."""

from __future__ import annotations

import logging
import zipfile
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
import requests.auth
import responses

from connectors.errors import (
    AuthError,
    ConnectorError,
    ErrorKinds,
    FatalHTTPError,
    RateLimited,
    RetriableError,
)
from connectors.http import BrokenBody, HttpSession, RetryPolicy, parse_retry_after, safe_url

URL = "https://bank.example.test/api/v1/loans"
NOW = datetime(2026, 3, 31, 2, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def session(sleeps: list[float], **options) -> HttpSession:
    options.setdefault("retry", RetryPolicy(max_attempts=4, backoff_initial=0.5, jitter=0.0))
    return HttpSession(sleep=sleeps.append, clock=lambda: NOW, **options)


def test_5xx_answers_are_retried_with_exponential_backoff_then_succeed(mocked):
    for status in (500, 502, 503):
        mocked.get(URL, status=status, body="<html>bad gateway</html>")
    mocked.get(URL, json={"ok": True})
    sleeps: list[float] = []

    assert session(sleeps).request_json("GET", URL) == {"ok": True}

    assert sleeps == [0.5, 1.0, 2.0]
    assert len(mocked.calls) == 4


def test_429_with_retry_after_seconds_waits_what_the_server_asked(mocked):
    mocked.get(URL, status=429, headers={"Retry-After": "7"}, json={"code": 42900})
    mocked.get(URL, status=429, headers={"Retry-After": "0"}, json={"code": 42900})
    mocked.get(URL, json={"ok": True})
    sleeps: list[float] = []

    session(sleeps).request_json("GET", URL)

    assert sleeps == [7.0, 0.0]


def test_retry_after_as_http_date_waits_until_that_moment(mocked):
    at = datetime.fromtimestamp(NOW + 12, tz=UTC)
    mocked.get(URL, status=503, headers={"Retry-After": format_datetime(at, usegmt=True)})
    mocked.get(URL, json={"ok": True})
    sleeps: list[float] = []

    session(sleeps).request_json("GET", URL)

    assert sleeps == [12.0]


def test_retry_after_longer_than_the_cap_waits_the_cap(mocked):
    mocked.get(URL, status=429, headers={"Retry-After": "86400"})
    mocked.get(URL, json={"ok": True})
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=2, retry_after_max=60.0)

    session(sleeps, retry=policy).request_json("GET", URL)

    assert sleeps == [60.0]


def test_backoff_grows_to_its_cap_and_jitter_only_shortens_it():
    policy = RetryPolicy(backoff_initial=1.0, backoff_multiplier=2.0, backoff_max=10.0, jitter=0.5)

    assert [policy.backoff(n, draw=0.0) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.backoff(3, draw=0.999) == pytest.approx(2.002)
    assert policy.backoff(1000, draw=0.0) == 10.0


def test_parse_retry_after_reads_seconds_and_dates_and_ignores_garbage():
    assert parse_retry_after("3", NOW) == 3.0
    assert parse_retry_after(format_datetime(datetime.fromtimestamp(NOW - 5, tz=UTC), usegmt=True), NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_retries_exhausted_raise_retriable_error_naming_attempts_and_status(mocked):
    for _ in range(4):
        mocked.get(URL, status=502)
    sleeps: list[float] = []

    with pytest.raises(RetriableError) as caught:
        session(sleeps).request_json("GET", URL, params={"account": "secret-query"})

    error = caught.value
    assert not isinstance(error, RateLimited)
    assert (error.method, error.url, error.status, error.attempts) == ("GET", URL, 502, 4)
    assert "4 attempts" in str(error) and "502" in str(error) and "run again later" in str(error)
    assert "secret-query" not in str(error)
    assert len(sleeps) == 3


def test_429_until_the_budget_is_spent_raises_rate_limited_with_the_servers_wish(mocked):
    for _ in range(2):
        mocked.get(URL, status=429, headers={"Retry-After": "3"})

    with pytest.raises(RateLimited) as caught:
        session([], retry=RetryPolicy(max_attempts=2)).request_json("GET", URL)

    assert caught.value.retry_after == 3.0
    assert "throttling" in str(caught.value)


def test_read_timeout_is_retried(mocked):
    mocked.get(URL, body=requests.exceptions.ReadTimeout("read timed out"))
    mocked.get(URL, json={"ok": True})
    sleeps: list[float] = []

    assert session(sleeps).request_json("GET", URL) == {"ok": True}
    assert sleeps == [0.5]


def test_connection_error_is_retried(mocked):
    mocked.get(URL, body=requests.exceptions.ConnectionError("connection refused"))
    mocked.get(URL, json={"ok": True})

    assert session([]).request_json("GET", URL) == {"ok": True}


def test_truncated_json_body_is_retried(mocked):
    mocked.get(URL, body='{"code": 0, "data": {"items": [{"contract_no": "YS20', content_type="application/json")
    mocked.get(URL, body="", content_type="application/json")
    mocked.get(URL, json={"ok": True})
    sleeps: list[float] = []

    assert session(sleeps).request_json("GET", URL) == {"ok": True}
    assert sleeps == [0.5, 1.0]


def test_truncated_json_until_the_budget_is_spent_says_so(mocked):
    for _ in range(2):
        mocked.get(URL, body='{"code": 0, "da', content_type="application/json")

    with pytest.raises(RetriableError, match="not complete JSON"):
        session([], retry=RetryPolicy(max_attempts=2)).request_json("GET", URL)


def test_404_is_fatal_and_not_retried(mocked):
    mocked.get(URL, status=404, json={"code": 40400, "message": "no such loan"})
    sleeps: list[float] = []

    with pytest.raises(FatalHTTPError) as caught:
        session(sleeps).request_json("GET", URL)

    assert caught.value.status == 404
    assert "not retried" in str(caught.value)
    assert sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_errors_and_not_retried(mocked, status):
    mocked.get(URL, status=status)
    sleeps: list[float] = []

    with pytest.raises(AuthError, match="credentials"):
        session(sleeps).request_json("GET", URL)

    assert sleeps == []


def test_error_detail_hook_puts_the_api_code_on_the_error(mocked):
    mocked.get(URL, status=400, json={"code": 40001, "message": "bad token"})

    def detail(response):
        body = response.json()
        return body["code"], f"code {body['code']}: {body['message']}"

    with pytest.raises(FatalHTTPError) as caught:
        session([], error_detail=detail).request_json("GET", URL)

    assert caught.value.api_code == 40001
    assert "code 40001: bad token" in str(caught.value)


def test_a_connector_gets_its_own_error_classes(mocked):
    class MyError(ConnectorError):
        pass

    class MyFatal(MyError, FatalHTTPError):
        pass

    mocked.get(URL, status=400)

    with pytest.raises(MyError):
        session([], errors=ErrorKinds(fatal=MyFatal)).request_json("GET", URL)


def test_every_call_carries_connect_and_read_timeouts():
    seen = []

    class Recorder(requests.Session):
        def request(self, method, url, **kwargs):
            seen.append(kwargs["timeout"])
            raise requests.exceptions.ConnectTimeout("no route")

    http = HttpSession(timeout=(3.0, 20.0), session=Recorder(), retry=RetryPolicy(max_attempts=2), sleep=lambda s: None)

    with pytest.raises(RetriableError, match="connect timeout"):
        http.request_json("GET", URL)

    assert seen == [(3.0, 20.0), (3.0, 20.0)]


def test_logs_show_method_url_status_attempt_but_no_query_or_headers(mocked, caplog):
    mocked.get(URL, status=503)
    mocked.get(URL, json={"ok": True})
    caplog.set_level(logging.DEBUG, logger="connectors.http")

    session([]).request_json("GET", URL, params={"id_number": "990101"}, headers={"Authorization": "Bearer s3cr3t"})

    text = caplog.text
    assert f"GET {URL}" in text and "503" in text and "attempt 1/4" in text
    assert "990101" not in text and "s3cr3t" not in text and "Authorization" not in text


def test_safe_url_drops_query_fragment_and_credentials():
    assert safe_url("https://user:pw@host.test:8443/a/b?token=x#frag") == "https://host.test:8443/a/b"


def test_download_streams_the_body_to_the_file(mocked, tmp_path):
    mocked.get(URL, body=b"x" * 200_000)
    target = tmp_path / "out" / "file.bin"

    saved = session([]).download("GET", URL, target)

    assert saved == target and target.read_bytes() == b"x" * 200_000
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_download_retries_a_file_that_fails_its_check_and_leaves_no_partial_file(mocked, tmp_path):
    mocked.get(URL, body=b"PK-cut-off")
    mocked.get(URL, body=_zip_bytes(tmp_path))
    target = tmp_path / "export.xlsx"

    def check(path: Path) -> None:
        if not zipfile.is_zipfile(path):
            raise BrokenBody("is not a zip file")

    sleeps: list[float] = []
    session(sleeps).download("GET", URL, target, check=check)

    assert zipfile.is_zipfile(target)
    assert sleeps == [0.5]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.xlsx", "z.zip"]


def _zip_bytes(folder: Path) -> bytes:
    path = folder / "z.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    return path.read_bytes()


def test_auth_signs_every_attempt_afresh(mocked):
    class CountingSigner(requests.auth.AuthBase):
        def __init__(self) -> None:
            self.signed = 0

        def __call__(self, request):
            self.signed += 1
            request.headers["X-Nonce"] = str(self.signed)
            return request

    mocked.get(URL, status=503, match=[responses.matchers.header_matcher({"X-Nonce": "1"})])
    mocked.get(URL, json={"ok": True}, match=[responses.matchers.header_matcher({"X-Nonce": "2"})])
    signer = CountingSigner()

    assert session([]).request_json("GET", URL, auth=signer) == {"ok": True}
    assert signer.signed == 2
