"""What a bank sends back is checked (issue 10, item 4): every answer whose content is used is signed by
the bank (HMAC over status, our nonce and the body, as the sandbox banks and real gateways sign); a
tampered or unsigned answer is refused with a clear error, a tampered download is not kept, and the
bank's clock (`X-Server-Time`) is followed only from a signed answer and only up to 30 minutes off."""

from __future__ import annotations

import json
import time

import pytest

from connectors.banks import errors, make_client
from connectors.banks.signing import HEADER_SERVER_TIME, MAX_CLOCK_OFFSET_SECONDS
from tests.hostile.bank_support import APP_ID, DAY, SECRET, FakeBank, icbc_listing, statement_bytes

LISTING = "/api/icbc/v1/statements"
NAME = "ICBC_4000021209200123456_20250303.csv"


def _client(bank, **options):
    return make_client("icbc", bank.url, app_id=APP_ID, secret=SECRET, **options)


def test_a_signed_answer_is_taken(tmp_path):
    with FakeBank({LISTING: icbc_listing(NAME)}) as bank, _client(bank) as client:
        assert [file.file_name for file in client.list_statement_files(DAY, DAY)] == [NAME]


@pytest.mark.parametrize(
    ("sign", "tamper"),
    [(True, lambda body: body.replace(b"4000021209200123456", b"4000021209200999999")), (False, None)],
    ids=["tampered", "unsigned"],
)
def test_a_tampered_or_unsigned_answer_is_refused_with_a_clear_error(sign, tamper):
    with (
        FakeBank({LISTING: icbc_listing(NAME)}, sign=sign, tamper=tamper) as bank,
        _client(bank) as client,
        pytest.raises(errors.ResponseSignatureInvalid, match="expected the bank's answer .* to be signed") as caught,
    ):
        client.list_statement_files(DAY, DAY)
    assert "nothing in it is used" in str(caught.value)


def test_a_tampered_download_is_refused_and_not_kept(tmp_path):
    routes = {LISTING: icbc_listing(NAME), f"{LISTING}/{NAME}": statement_bytes("icbc")}
    with FakeBank(routes) as bank, _client(bank) as client:
        (file,) = client.list_statement_files(DAY, DAY)
        bank.tamper = lambda body: body.replace(b"1,153,120.00", b"9,153,120.00")
        with pytest.raises(errors.ResponseSignatureInvalid):
            client.download_statement(file, tmp_path)
    assert not [path for path in tmp_path.rglob("*") if path.is_file()], "nothing of the tampered answer is kept"


def _skewed(offset_s: float, *, sign: bool = True):
    """A bank whose first answer is a 40105 naming its clock `offset_s` ahead of ours, then the listing."""
    calls = []

    def route(path, query):
        calls.append(path)
        if len(calls) == 1:
            body = b'{"return_code": "40105", "return_msg": "timestamp out of window"}'
            return 401, {"Content-Type": "application/json", HEADER_SERVER_TIME: str(int(time.time() + offset_s))}, body
        return 200, {"Content-Type": "application/json"}, json.dumps(icbc_listing(NAME)).encode()

    return FakeBank({LISTING: route}, sign=sign), calls


def test_a_clock_offset_within_30_minutes_is_followed():
    bank, calls = _skewed(600)
    with bank, _client(bank) as client:
        assert len(client.list_statement_files(DAY, DAY)) == 1
        assert 590 <= client.api.signer.offset <= 610
    assert len(calls) == 2


@pytest.mark.parametrize("offset_s", [MAX_CLOCK_OFFSET_SECONDS + 60, -2 * 3600, 10 * 365 * 86400])
def test_a_clock_offset_beyond_30_minutes_is_refused_and_logged(offset_s, caplog):
    bank, calls = _skewed(offset_s)
    with bank, _client(bank) as client, pytest.raises(errors.SignatureRejected, match="NTP"):
        client.list_statement_files(DAY, DAY)
    assert client.api.signer.offset == 0.0 and len(calls) == 1
    assert "more than the 30 minutes we follow" in caplog.text


def test_an_unsigned_server_time_is_not_followed(caplog):
    bank, calls = _skewed(600, sign=False)
    with bank, _client(bank) as client, pytest.raises(errors.SignatureRejected, match="NTP"):
        client.list_statement_files(DAY, DAY)
    assert client.api.signer.offset == 0.0 and len(calls) == 1
    assert "signature does not match: not followed" in caplog.text
