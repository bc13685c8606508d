"""The knobs a DAG file reads while Airflow parses it: standard library only.

Airflow parses every DAG file again and again (the DAG processor, each task's process), so what a DAG
file imports at its top is paid on every parse (decision 0026). These few names are what the DAGs are
built with — their start date, the banks, the warehouse pool, who hears about failures and through which
Connection, whether the Deadline Alerts are on — and they live here, apart from `estatehub.settings`,
whose dataclasses cost more to import than an empty DAG file costs to parse. `estatehub.settings` and
`estatehub.connections` re-export them: the library reads them where it always did.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")

# Every DAG's start_date: before any business day the sandbox or a backfill may ask for (catchup is off).
DAG_START_DATE = datetime(2024, 1, 1, tzinfo=BUSINESS_TZ)

# The banks estatehub syncs: loan stages from each (the provident-fund centre `hpf` among them), statements
# from the three collection-account banks. One task group each in the DAGs; the command line's choices.
BANK_CODES = ("icbc", "ccb", "cmb", "hpf")
STATEMENT_BANKS = ("icbc", "ccb", "cmb")

# Airflow pool that serialises warehouse writes (one slot: SQLite has a single writer).
WAREHOUSE_POOL = "warehouse"

# Who hears about failures and staleness (non-secret; the SMTP server is the `smtp_default` Connection).
SUPERVISORS = ("cs-supervisor-1@estatehub.example", "cs-supervisor-2@estatehub.example")
MAIL_FROM = "estatehub@estatehub.example"
SMTP_CONN_ID = "smtp_default"


def deadline_alerts_enabled() -> bool:
    """Whether DAGs carry their Deadline Alerts (`ESTATEHUB_DEADLINE_ALERTS`, default on); read at parse time."""
    return os.environ.get("ESTATEHUB_DEADLINE_ALERTS", "1").strip().lower() not in ("0", "false", "no", "off")
