"""Every non-secret knob of estatehub, with its default, in one place.

Secrets (passwords, the PII hash key) live only in Airflow Connections. The few environment
variables read here are read when a function is called, never at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

# what the DAG files read at parse time lives in the import-light `dag_settings` (decision 0026); named
# here too, so that this module stays the one place to read every knob
from estatehub.dag_settings import (  # noqa: F401 (re-exported)
    BUSINESS_TZ,
    DAG_START_DATE,
    MAIL_FROM,
    SUPERVISORS,
    WAREHOUSE_POOL,
    deadline_alerts_enabled,
)

# what the package ships (the SQL models in `sql/`, the default watch file in `config/`): package data,
# found beside this file in a checkout and in an installed wheel alike
PACKAGE_DIR = Path(__file__).resolve().parent
SQL_DIR = PACKAGE_DIR / "sql"
CONFIG_DIR = PACKAGE_DIR / "config"
# the policy monitor's watch file shipped with the package (`estatehub.policy.config`)
POLICY_WATCHES = CONFIG_DIR / "policy_watches.yaml"
# the checkout (dags/, plugins/, var/); in an installed package this is site-packages, holding none of them
PROJECT_ROOT = PACKAGE_DIR.parent


def business_today() -> date:
    """Today in the business time zone (Asia/Shanghai)."""
    return datetime.now(BUSINESS_TZ).date()


def data_dir() -> Path:
    """The working data folder: `$ESTATEHUB_HOME`, else `var/` in the checkout; installed as a package
    (no checkout around it), `~/.estatehub`."""
    if os.environ.get("ESTATEHUB_HOME"):
        return Path(os.environ["ESTATEHUB_HOME"])
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "var"
    return Path.home() / ".estatehub"


def default_warehouse_path() -> Path:
    """The embedded default warehouse: one SQLite file in the data folder."""
    return data_dir() / "warehouse.db"


@dataclass(frozen=True)
class SyncSettings:
    """How a sync pages, batches, looks back and judges bad input (one instance per source below)."""

    page_size: int = 200  # the client's page size when the Connection sets none
    # records per write transaction: raw, staging, core and the cursor commit together. Large batches
    # are what makes a full sync fast (each commit and each run of the core models has a fixed cost,
    # and a page of an index touched by many records is written once per batch, not once per record);
    # at most three batches are held in memory
    batch_size: int = 5000
    look_back: timedelta = timedelta(hours=1)
    # the share of quarantined records in one run above which the run fails (after loading the rest)
    quarantine_threshold: float = 0.05
    # a run that fetched fewer records than this never fails on the threshold alone
    quarantine_min_records: int = 20
    # how long a second sync of the same stream waits for the first to finish before it gives up
    lock_wait: timedelta = timedelta(0)
    # an incremental run becomes a full one when the last full run started longer ago than this, so
    # that a record the source never listed as changed again is not missing for good (None: never)
    full_every: timedelta | None = timedelta(days=7)
    # quarantined records asked for again by key on each incremental run (oldest first), until they
    # load or a person dismisses them (`estatehub quarantine dismiss`)
    refetch_limit: int = 500
    # where the next batch is fetched and prepared while one is written (`estatehub.sync.batches`): in a
    # forked process ("process"; a thread where the platform cannot fork) or in a thread ("thread");
    # None: the installation's choice (`read_ahead_mode`). Preparing and writing are both mostly Python:
    # in one process they take turns on one core (decision 0042)
    read_ahead: str | None = None

    def read_ahead_where(self, read_ahead: bool) -> str | bool:
        """Where a sync's run reads ahead (`estatehub.sync.batches`): these settings' mode, else the
        installation's (`read_ahead_mode`); False where the run was asked not to read ahead."""
        return (self.read_ahead or read_ahead_mode()) if read_ahead else False


READ_AHEAD_MODES = ("process", "thread")


def read_ahead_mode() -> str:
    """Where the syncs prepare their next batch unless their settings say: `$ESTATEHUB_READ_AHEAD` (`process`
    or `thread`: a host that must not fork); unset, `process` where this process may run on two cores or more,
    `thread` where it has one (two processes taking turns on one core cost 9-16% more time than a thread:
    decision 0042)."""
    mode = os.environ.get("ESTATEHUB_READ_AHEAD", "").strip().lower() or ("process" if usable_cores() > 1 else "thread")
    if mode not in READ_AHEAD_MODES:
        raise ValueError(f"expected ESTATEHUB_READ_AHEAD to be one of {', '.join(READ_AHEAD_MODES)}, got {mode!r}")
    return mode


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: `taskset`, a cpuset), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # a platform without affinity
        return os.cpu_count() or 1


# the trading network's contracts: every contract becomes about twenty rows, so large batches pay
TRADING_NETWORK_SYNC = SyncSettings()
# each bank's loans (a few hundred a day at most; the page size is the bank client's or the Connection's)
BANK_LOANS_SYNC = SyncSettings()
# each of the ledger's forms (vouchers, receipts, refunds, invoices); the client's page size is the
# Connection's `page_size` (default 2,000)
LEDGER_SYNC = SyncSettings(page_size=2000, batch_size=2000)

RECONCILE_SINCE = date(2015, 1, 1)  # the reconciliation DAG's period starts here: every sale still on the books
# days finance takes to issue the invoice of a receipt: a receipt this close before the contract's full
# invoice (at handover) needs no 602 invoice of its own, the full one covers it
INVOICE_WITHIN_DAYS = 15
# how long a loan may wait at a stage before the loans reconciliation calls it stuck (`loan_stuck`): the
# bank's review (已递交 → 已审批), however it ended; and a loan still at 已签借款合同, whose mortgage
# registration waits for the purchase contract's filing (the wait between them varies with the bureau)
LOAN_STAGE_LIMIT_DAYS = {"已递交": 21}
# days past its planned signing date a subscription (认购) may stay open before it is a break: the
# developer's own sales policy (the network knows no such rule)
SUBSCRIPTION_GRACE_DAYS = 15
LOAN_OPEN_STAGE_LIMIT_DAYS = {"已签借款合同": 21}
LOAN_FINAL_STAGES = ("已放款", "拒贷", "已撤销")  # a loan at one of these waits for nothing
# a bank withdraws a loan application within a working week of the developer telling it the contract is
# cancelled: a loan still open on a contract cancelled longer ago is `loan_on_cancelled`
LOAN_WITHDRAW_DAYS = 7


@dataclass(frozen=True)
class StatementSettings:
    """How the bank statement files are loaded and synced (every bank alike)."""

    # statement lines upserted per statement (one file is one transaction, written in batches of these)
    line_batch: int = 2000
    # a sync lists the files of the days since the last loaded period less this much
    look_back: timedelta = timedelta(days=7)
    # the first day a full sync asks for
    first_day: date = date(2000, 1, 1)
    # how long a second statement sync of the same bank waits for the first to finish before it gives up
    lock_wait: timedelta = timedelta(0)


BANK_STATEMENTS = StatementSettings()


def read_yaml(path: Path, what: str, error: type[Exception], *, hint: str = "") -> object:
    """The YAML document of the configuration file `path` (`what` it is, e.g. "the city rules"); `error`
    saying which file and why when it cannot be read or is not YAML (`hint`: what to do, appended)."""
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}{hint}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML: {exc}") from exc


@dataclass(frozen=True)
class WorkListSettings:
    """How the work lists judge what is late where neither a contract nor the city's rules say."""

    # a loan is stuck at a stage when it has been there longer than its bank's usual time for it: this
    # share of the loans that left that stage did so sooner (learned from the history as of the day)
    loan_usual_quantile: float = 0.8
    # never less than this many days (a bank that moves fast does not make a day's wait a problem)
    loan_floor_days: int = 7
    # fewer finished stays than this at a bank's stage: no usual time is learned, the floor applies
    loan_min_samples: int = 5
    # a guarantee deposit (按揭保证金) is due back this many days after the property right is registered
    guarantee_release_days: int = 30
    # as-built area off the contract's by more than this share: the buyer may return the unit (3%)
    area_difference_share: float = 0.03
    # the buyer is asked to decide on a unit off by more than 3% within this many days of the handover
    area_decision_days: int = 30
    # an invoice (预收款发票) is issued within this many days of the receipt
    invoice_days: int = 7


WORK_LISTS = WorkListSettings()
