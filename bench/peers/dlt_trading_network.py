"""dlt's REST API source paging the sandbox's contract listing into SQLite or PostgreSQL.

    .venv-dlt/bin/python -m bench.peers.dlt_trading_network URL ACCOUNT PASSWORD DESTINATION WORKDIR

Runs in its own virtual environment (`bench/requirements-dlt.txt`), from the project's root: it imports
dlt, the standard library and `bench.common`'s measures (standard library only at import).
DESTINATION is `sqlite:///path` (dlt's SQLAlchemy destination) or `postgresql://…` (dlt's PostgreSQL
destination). What dlt writes: the contracts as received,
nested lists unpacked into child tables (`contracts__buyers`, `contracts__payment_plan`, …), no
history, no hashing, no quarantine. Prints one JSON line: seconds, records (contracts), CPU seconds,
peak memory and the rows written per table.
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench.common import cpu_seconds, peak_rss_mb, postgres_cpu_seconds, spent


def main(url: str, account: str, password: str, destination: str, workdir: str) -> None:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    import dlt
    import requests
    from dlt.sources.rest_api import rest_api_source

    server_started = postgres_cpu_seconds()
    started = time.perf_counter()
    cpu_started = cpu_seconds()
    login = requests.post(f"{url}/api/v1/auth/login", json={"account": account, "password": password}, timeout=60)
    login.raise_for_status()
    token = login.json()["data"]["token"]
    source = rest_api_source(
        {
            "client": {"base_url": url, "auth": {"type": "bearer", "token": token}},
            "resources": [
                {
                    "name": "contracts",
                    "endpoint": {
                        "path": "api/v1/contracts",
                        "params": {"page_size": 500, "expand": "detail"},
                        "data_selector": "data.items",
                        "paginator": {
                            "type": "cursor",
                            "cursor_path": "data.next_page_token",
                            "cursor_param": "page_token",
                        },
                    },
                    "primary_key": "contract_no",
                    "write_disposition": "append",
                }
            ],
        }
    )
    if destination.startswith("sqlite"):
        target = dlt.destinations.sqlalchemy(credentials=destination)
    else:
        target = dlt.destinations.postgres(credentials=destination)
    pipeline = dlt.pipeline(
        pipeline_name="bench_trading_network",
        pipelines_dir=workdir,
        destination=target,
        dataset_name="tn",
    )
    pipeline.run(source)
    seconds = time.perf_counter() - started
    cpu, server = cpu_seconds() - cpu_started, postgres_cpu_seconds()
    counts = dict(pipeline.last_trace.last_normalize_info.row_counts)
    written = {table: rows for table, rows in counts.items() if not table.startswith("_dlt")}
    payload = {
        "seconds": seconds,
        "records": written.get("contracts", 0),
        "cpu_s": cpu,
        "server_cpu_s": spent(server_started, server),
        "peak_rss_mb": peak_rss_mb(),
        "written": written,
        "dlt": dlt.__version__,
    }
    print(json.dumps(payload), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])
