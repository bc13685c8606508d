"""Each hook finds its Connection through Airflow (`AIRFLOW_CONN_<ID>` here) and builds the client from it:
the base URL, the credentials it logs in with, the timeout and page size it uses; a missing or
incomplete Connection is an error that names the Connection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses
from airflow.sdk.exceptions import AirflowNotFoundException
from hooks.banks import BankHook
from hooks.bureau import BureauHook
from hooks.ledger import LedgerHook
from hooks.trading_network import TradingNetworkHook
from hooks.warehouse import WarehouseHook

from connectors.banks import signing
from estatehub.connections import ConnectionConfigError

TN_LOGIN = "/api/v1/auth/login"
ERP_LOGIN = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
PII_KEY = "hook-tests-pii-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_outside_connections(monkeypatch, tmp_path):
    """Only the Connections a test sets; the data folder (embedded warehouse, key) in tmp_path."""
    import os

    for name in [name for name in os.environ if name.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ESTATEHUB_HOME", str(tmp_path / "var"))


def _login_call(mock: responses.RequestsMock, url: str):
    [call] = [c for c in mock.calls if c.request.url == url]
    return json.loads(call.request.body), call.request.req_kwargs["timeout"]


# -- trading network --------------------------------------------------------------------------------


def test_trading_network_hook_builds_the_client_of_its_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_TRADING_NETWORK", "http://dev-account:s3cret%2Fpw@gateway.example:8081?timeout=12&page_size=50"
    )
    client = TradingNetworkHook().get_conn()
    assert client.base_url == "http://gateway.example:8081"
    assert client.page_size == 50
    with responses.RequestsMock() as mock:
        mock.post(f"http://gateway.example:8081{TN_LOGIN}", json={"code": 0, "data": {"token": "t", "expires_in": 600}})
        client.login()
        body, timeout = _login_call(mock, f"http://gateway.example:8081{TN_LOGIN}")
    assert body == {"account": "dev-account", "password": "s3cret/pw"}
    assert timeout == (12.0, 12.0)


def test_trading_network_hook_names_a_missing_connection():
    with pytest.raises(AirflowNotFoundException, match=r"'trading_network'.*AIRFLOW_CONN_TRADING_NETWORK"):
        TradingNetworkHook().get_conn()


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("http://gateway.example:8081", "login and password"),
        ('{"conn_type": "http", "login": "a", "password": "p"}', "no host"),
        ("http://a:p@gateway.example?page_size=lots", "lots"),
    ],
    ids=["no credentials", "no host", "bad page size"],
)
def test_trading_network_hook_names_an_incomplete_connection(monkeypatch, value, what):
    monkeypatch.setenv("AIRFLOW_CONN_TRADING_NETWORK", value)
    with pytest.raises(ConnectionConfigError, match=rf"Connection 'trading_network'.*{what}"):
        TradingNetworkHook().get_conn()


# -- finance ledger ---------------------------------------------------------------------------------


def test_ledger_hook_builds_the_client_of_its_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_FINANCE_LEDGER",
        json.dumps(
            {
                "conn_type": "http",
                "host": "erp.example.com",
                "port": 8090,
                "login": "estatehub",
                "password": "erp-pw",
                "extra": {"acct_id": "62f1", "timeout": 7, "page_size": 500},
            }
        ),
    )
    client = LedgerHook().get_conn()
    assert client.base_url == "http://erp.example.com:8090"
    assert (client.page_size, client.acct_id, client.lcid) == (500, "62f1", 2052)
    with responses.RequestsMock() as mock:
        mock.post(f"http://erp.example.com:8090{ERP_LOGIN}", json={"LoginResultType": 1})
        client.login()
        body, timeout = _login_call(mock, f"http://erp.example.com:8090{ERP_LOGIN}")
    assert body == {"acctID": "62f1", "username": "estatehub", "password": "erp-pw", "lcid": 2052}
    assert timeout == (7.0, 7.0)


def test_ledger_hook_names_a_missing_or_incomplete_connection(monkeypatch):
    with pytest.raises(AirflowNotFoundException, match=r"'finance_ledger'.*AIRFLOW_CONN_FINANCE_LEDGER"):
        LedgerHook().get_conn()
    monkeypatch.setenv("AIRFLOW_CONN_FINANCE_LEDGER", "http://estatehub@erp.example.com")
    with pytest.raises(ConnectionConfigError, match=r"Connection 'finance_ledger'.*login and password"):
        LedgerHook().get_conn()
    monkeypatch.setenv("AIRFLOW_CONN_FINANCE_LEDGER", '{"conn_type": "http", "login": "u", "password": "p"}')
    with pytest.raises(ConnectionConfigError, match=r"Connection 'finance_ledger'.*no host"):
        LedgerHook().get_conn()


# -- banks ------------------------------------------------------------------------------------------


def _bank_conn(monkeypatch, code: str, **extra) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_BANK_{code.upper()}",
        json.dumps(
            {
                "conn_type": "http",
                "host": f"https://api.{code}.example",
                "login": f"app-{code}",
                "password": f"secret-{code}",
                "extra": extra,
            }
        ),
    )


def test_bank_hook_builds_the_client_of_its_bank_that_signs_with_the_connections_secret(monkeypatch):
    _bank_conn(monkeypatch, "icbc", timeout=9, page_size=40)
    client = BankHook("icbc").get_conn()
    assert type(client).__name__ == "IcbcClient"
    assert client.page_size == 40

    def signed_answer(request):  # the bank signs its answer to this request with the same secret
        body = b"{}"
        nonce = request.headers["X-Nonce"]
        return 200, signing.response_signature_headers("secret-icbc", 200, nonce, body, timestamp=1_700_000_000), body

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, "https://api.icbc.example/probe", callback=signed_answer)
        client.api.request_json("GET", "/probe")
        [call] = mock.calls
    headers = call.request.headers
    assert headers["X-App-Id"] == "app-icbc"
    assert signing.verify(
        "secret-icbc",
        headers["X-Signature"],
        "GET",
        "/probe",
        None,
        None,
        app_id="app-icbc",
        timestamp=int(headers["X-Timestamp"]),
        nonce=headers["X-Nonce"],
    )
    assert call.request.req_kwargs["timeout"] == (9.0, 9.0)


def test_bank_hook_of_the_fund_centre_downloads_where_it_is_told(monkeypatch, tmp_path):
    _bank_conn(monkeypatch, "hpf")
    hook = BankHook("hpf")
    assert hook.bank_conn_id == "bank_hpf"
    assert hook.get_conn(folder=tmp_path / "hpf").folder == tmp_path / "hpf"
    assert hook.get_conn().folder == Path(tmp_path / "var" / "banks" / "hpf")


def test_bank_hook_names_a_missing_or_incomplete_connection(monkeypatch):
    with pytest.raises(AirflowNotFoundException, match=r"'bank_ccb'.*AIRFLOW_CONN_BANK_CCB"):
        BankHook("ccb").get_conn()
    monkeypatch.setenv("AIRFLOW_CONN_BANK_CCB", "https://api.ccb.example")
    with pytest.raises(ConnectionConfigError, match=r"Connection 'bank_ccb'.*app id"):
        BankHook("ccb").get_conn()
    monkeypatch.setenv("AIRFLOW_CONN_BANK_CCB", '{"conn_type": "http", "login": "app", "password": "s"}')
    with pytest.raises(ConnectionConfigError, match=r"Connection 'bank_ccb'.*no host"):
        BankHook("ccb").get_conn()


# -- warehouse --------------------------------------------------------------------------------------


def test_warehouse_hook_opens_the_warehouse_of_its_connection_with_its_pii_key(monkeypatch, tmp_path):
    from estatehub.pii import PiiHasher

    path = tmp_path / "wh" / "warehouse.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path), "extra": {"pii_key": PII_KEY}})
    )
    warehouse = WarehouseHook().get_conn()
    try:
        assert warehouse.engine.url.database == str(path)
        assert warehouse.hasher.fingerprint() == PiiHasher(PII_KEY.encode()).fingerprint()
    finally:
        warehouse.engine.dispose()


def test_warehouse_hook_reads_a_postgres_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "db.internal",
                "port": 5433,
                "schema": "estatehub",
                "login": "etl",
                "password": "pg-pw",
                "extra": {"pii_key": PII_KEY},
            }
        ),
    )
    url = WarehouseHook().get_conn().engine.url
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql+psycopg",
        "db.internal",
        5433,
        "estatehub",
        "etl",
        "pg-pw",
    )


def test_warehouse_hook_without_a_connection_opens_the_embedded_default(tmp_path):
    warehouse = WarehouseHook().get_conn()
    try:
        assert Path(warehouse.engine.url.database) == tmp_path / "var" / "warehouse.db"
    finally:
        warehouse.engine.dispose()


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ('{"conn_type": "sqlite", "extra": {"pii_key": "k"}}', "host = the database file path"),
        ('{"conn_type": "sqlite", "host": "/tmp/w.db"}', "pii_key"),
        ('{"conn_type": "mysql", "host": "db", "extra": {"pii_key": "k"}}', "sqlite or postgres"),
    ],
    ids=["no path", "no key", "unknown type"],
)
def test_warehouse_hook_names_an_incomplete_connection(monkeypatch, value, what):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", value)
    with pytest.raises(ConnectionConfigError, match=rf"(?s)'warehouse'.*{re.escape(what)}"):
        WarehouseHook().get_conn()


# -- bureau site ------------------------------------------------------------------------------------


def test_bureau_hook_points_the_watch_file_at_its_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BUREAU_SITE", "http://127.0.0.1:8099")
    hook = BureauHook()
    assert hook.get_conn() == "http://127.0.0.1:8099"
    config = hook.watch_config()
    assert config.site.base_url == "http://127.0.0.1:8099/"
    assert config.site.allowed_hosts == ("127.0.0.1:8099",)
    assert config.site.timeout_seconds == 20 and config.site.retries == 3  # politeness: the watch file's


def test_bureau_hook_without_a_connection_reads_the_watch_files_site():
    assert BureauHook().watch_config().site.base_url == "http://zjj.sz.gov.cn/"
    with pytest.raises(AirflowNotFoundException, match=r"'bureau_site'.*AIRFLOW_CONN_BUREAU_SITE"):
        BureauHook().get_conn()


def test_bureau_hook_names_an_incomplete_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BUREAU_SITE", '{"conn_type": "http"}')
    with pytest.raises(ConnectionConfigError, match=r"Connection 'bureau_site'.*no host"):
        BureauHook().watch_config()
    with pytest.raises(ConnectionConfigError, match=r"Connection 'bureau_site'.*no host"):
        BureauHook().get_conn()
