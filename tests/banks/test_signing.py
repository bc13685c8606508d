"""Request signing against known vectors.

The expected signatures were computed independently of this code, with OpenSSL, for example:

    printf 'GET\\n/api/icbc/v1/loans\\npage_no=1&page_size=100&updated_since=20250101000000\\nestatehub-icbc\\n
    1735689600\\n0123456789abcdef0123456789abcdef\\ne3b0c442...b855' | openssl dgst -sha256 -hmac 'icbc-test-secret'

and the body digests with `printf '<body>' | openssl dgst -sha256`.
"""

from __future__ import annotations

import itertools

import pytest
import requests
import responses

from connectors.banks import signing
from connectors.banks.client import SignedApi, envelope_detail
from connectors.http import RetryPolicy

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CCB_BODY = '{"updatedSince":"2025-01-01 00:00:00","limit":100}'
CCB_BODY_SHA256 = "29f4a69a7fd242a99d8d13048affd20db0d497408eeb744a5353fb199b27086a"

# (secret, method, path, query, body, app_id, timestamp, nonce, expected signature)
VECTORS = [
    (
        "icbc-test-secret",
        "GET",
        "/api/icbc/v1/loans",
        {"updated_since": "20250101000000", "page_no": "1", "page_size": "100"},
        b"",
        "estatehub-icbc",
        1735689600,
        "0123456789abcdef0123456789abcdef",
        "a3baf4155be44fdbf20d479e5aa6a3d19922e888ee52c5b6a1693cb878afc60d",
    ),
    (
        "ccb-test-secret",
        "POST",
        "/ccb/loan/progress/query",
        None,
        CCB_BODY.encode(),
        "estatehub-ccb",
        1735689600,
        "fedcba9876543210fedcba9876543210",
        "bc6501c2b8b291530eae1c7081181c287420acf2d81c6b107030e02216fc49d0",
    ),
    (
        "cmb-test-secret",
        "GET",
        "/cmb/api/mortgage/v2/applications",
        {"since": "2025-01-01T08:00:00+08:00", "offset": "0", "limit": "50"},
        None,
        "estatehub-cmb",
        1735693200,
        "00000000000000000000000000000001",
        "ff0e2b2982392e4fc8a4c5c786a1601f3a918efe46716b46928753a5e7dda508",
    ),
    (
        "hpf-test-secret",
        "GET",
        "/hpf/loan-lists",
        {"name": "公积金", "date": "20250102"},
        b"",
        "estatehub-hpf",
        1735776000,
        "abcdefabcdefabcdefabcdefabcdefab",
        "8f18b18ea1c547455386d23ed7863fc5c511078408eb0bc9a588e8ff6f520e0f",
    ),
]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v[5])
def test_signature_matches_the_openssl_vector(vector):
    secret, method, path, query, body, app_id, timestamp, nonce, expected = vector
    text = signing.string_to_sign(method, path, query, body, app_id=app_id, timestamp=timestamp, nonce=nonce)
    assert signing.sign(secret, text) == expected
    assert signing.verify(secret, expected, method, path, query, body, app_id=app_id, timestamp=timestamp, nonce=nonce)


def test_body_digest_matches_openssl():
    assert signing.body_digest(None) == EMPTY_SHA256
    assert signing.body_digest(b"") == EMPTY_SHA256
    assert signing.body_digest(CCB_BODY) == CCB_BODY_SHA256


def test_canonical_query_sorts_and_percent_encodes_whatever_the_input_form():
    expected = "limit=50&offset=0&since=2025-01-01T08%3A00%3A00%2B08%3A00"
    assert signing.canonical_query({"since": "2025-01-01T08:00:00+08:00", "offset": "0", "limit": "50"}) == expected
    assert signing.canonical_query("since=2025-01-01T08:00:00%2B08:00&offset=0&limit=50") == expected
    assert signing.canonical_query([("offset", "0"), ("limit", "50"), ("since", "2025-01-01T08:00:00+08:00")]) == (
        expected
    )
    assert signing.canonical_query("name=%E5%85%AC%E7%A7%AF%E9%87%91&date=20250102") == (
        "date=20250102&name=%E5%85%AC%E7%A7%AF%E9%87%91"
    )
    assert signing.canonical_query(None) == ""


@pytest.mark.parametrize(
    "change",
    [
        {"method": "POST"},
        {"path": "/api/icbc/v1/loans/"},
        {"query": {"updated_since": "20250101000001", "page_no": "1", "page_size": "100"}},
        {"body": b"{}"},
        {"app_id": "estatehub-ccb"},
        {"timestamp": 1735689601},
        {"nonce": "0123456789abcdef0123456789abcdee"},
    ],
)
def test_any_change_to_the_request_breaks_the_signature(change):
    secret, method, path, query, body, app_id, timestamp, nonce, expected = VECTORS[0]
    request = {
        "method": method,
        "path": path,
        "query": query,
        "body": body,
        "app_id": app_id,
        "timestamp": timestamp,
        "nonce": nonce,
        **change,
    }
    assert not signing.verify(
        secret,
        expected,
        request["method"],
        request["path"],
        request["query"],
        request["body"],
        app_id=request["app_id"],
        timestamp=request["timestamp"],
        nonce=request["nonce"],
    )


def test_request_signer_signs_a_prepared_request_like_the_vector():
    secret, _, path, query, _, app_id, timestamp, nonce, expected = VECTORS[0]
    signer = signing.RequestSigner(app_id, secret, clock=lambda: timestamp + 0.7, nonce=lambda: nonce)
    prepared = signer(requests.Request("GET", "https://bank.example" + path, params=query).prepare())
    assert prepared.headers[signing.HEADER_SIGNATURE] == expected
    assert prepared.headers[signing.HEADER_TIMESTAMP] == str(timestamp)
    assert prepared.headers[signing.HEADER_NONCE] == nonce
    assert prepared.headers[signing.HEADER_APP_ID] == app_id


def test_request_signer_signs_the_json_body_as_sent():
    secret, _, path, _, _, app_id, timestamp, nonce, expected = VECTORS[1]
    signer = signing.RequestSigner(app_id, secret, clock=lambda: timestamp, nonce=lambda: nonce)
    request = requests.Request(
        "POST", "https://bank.example" + path, data=CCB_BODY.encode(), headers={"Content-Type": "application/json"}
    )
    assert signer(request.prepare()).headers[signing.HEADER_SIGNATURE] == expected


def test_request_signer_never_shows_the_secret():
    signer = signing.RequestSigner("app", "very-secret-value")
    assert "very-secret-value" not in repr(signer)


@responses.activate
def test_every_attempt_of_a_retried_call_is_signed_with_a_new_nonce():
    url = "https://bank.example/api/icbc/v1/loans"
    responses.get(url, status=503)  # retried: not signed (a proxy may answer it), not checked
    body = b'{"return_code": "0", "data": {}}'
    signed = signing.response_signature_headers("icbc-test-secret", 200, f"{2:032x}", body, timestamp=1_700_000_000)
    responses.get(url, body=body, headers=signed, content_type="application/json")
    counter = itertools.count(1)
    api = SignedApi(
        "https://bank.example",
        app_id="estatehub-icbc",
        secret="icbc-test-secret",
        error_detail=envelope_detail("return_code", "return_msg"),
        retry=RetryPolicy(max_attempts=3, backoff_initial=0.0, jitter=0.0),
        sleep=lambda seconds: None,
    )
    api.signer._nonce = lambda: f"{next(counter):032x}"  # deterministic nonces for the assertion
    assert api.request_json("GET", "/api/icbc/v1/loans", params={"page_no": 1})["return_code"] == "0"
    nonces = [call.request.headers[signing.HEADER_NONCE] for call in responses.calls]
    assert nonces == [f"{1:032x}", f"{2:032x}"]
    assert responses.assert_call_count(url + "?page_no=1", 2)
