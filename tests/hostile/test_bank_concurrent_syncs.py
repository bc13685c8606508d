"""Two `sync banks` of the same bank at once end in one loaded set of files and a clear message, never an
IntegrityError traceback (issue 10, item 11, statements): the statement loading of a bank holds the
bank's stream lock (`estatehub.sync.lock`), so the second run exits naming the first (or, told to wait,
waits). Two real processes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date

from sqlalchemy import func, select

from estatehub.banks.tables import core_bank_statement_line, etl_bank_statement_file
from sandbox.banks import accounts
from tests.conftest import TEST_PII_KEY
from tests.hostile.bank_support import APP_ID, SECRET, FakeBank, icbc_listing, line, statement_bytes

DAYS = [date(2025, 3, day) for day in (3, 4, 5)]
DELAY_S = 2.5  # each download: the first run holds the lock for several seconds


def _routes() -> dict:
    listing = icbc_listing()
    routes: dict = {
        "/api/icbc/v1/statements": listing,
        # after its statements a sync asks for the collection accounts and supervision records: none here
        "/api/icbc/v1/accounts": {"return_code": "0", "return_msg": "ok", "data": {"accounts": []}},
        "/api/icbc/v1/accounts/supervision": {"return_code": "0", "return_msg": "ok", "data": {"records": []}},
    }
    for n, day in enumerate(DAYS):
        name = f"ICBC_{accounts.ACCOUNTS['icbc']}_{day:%Y%m%d}.csv"
        listing["data"]["files"] += icbc_listing(name, day=day)["data"]["files"]
        body = statement_bytes("icbc", [line(n * 10 + k, 10_000 * (k + 1)) for k in range(3)], day=day)

        def slow(path, query, body=body):
            time.sleep(DELAY_S)
            return 200, {"Content-Type": "application/octet-stream"}, body

        routes[f"/api/icbc/v1/statements/{name}"] = slow
    return routes


def test_two_concurrent_statement_syncs_of_one_bank_load_once_and_say_why(warehouse, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "pii.key").write_bytes(TEST_PII_KEY)
    url = warehouse.engine.url.render_as_string(hide_password=False)
    with FakeBank(_routes()) as bank:
        env = {
            **os.environ,
            "ESTATEHUB_HOME": str(home),
            "AIRFLOW_CONN_BANK_ICBC": json.dumps(
                {"conn_type": "http", "host": bank.url, "login": APP_ID, "password": SECRET, "extra": {"timeout": 30}}
            ),
        }
        env.pop("AIRFLOW_CONN_WAREHOUSE", None)
        argv = [sys.executable, "-m", "estatehub", "sync", "banks", "--bank", "icbc", "--statements-only"]
        runs = [
            subprocess.Popen(
                [*argv, "--warehouse-url", url], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
    codes = [run.returncode for run in runs]
    for out in outputs:
        assert "Traceback" not in out and "IntegrityError" not in out, out
    loaded = [out for out in outputs if "3 loaded" in out]
    refused = [out for out in outputs if "NOT RUN: another sync of bank_icbc/statements is running" in out]
    assert len(loaded) == 1 and len(refused) == 1, outputs
    assert sorted(codes) == [0, 1]
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(etl_bank_statement_file)).scalar_one() == 3
        assert conn.execute(select(func.count()).select_from(core_bank_statement_line)).scalar_one() == 9
