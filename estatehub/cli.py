"""The command line: `python -m estatehub` (installed as `estatehub`).

Commands run the same code as the Airflow tasks, for one-off runs, backfills and the demo. Output
here is for people: counts and names, never ID numbers or phones. Bad arguments exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from estatehub import settings
from estatehub.errors import UsageError

DEFAULT_RULES = settings.CONFIG_DIR / "reconcile_rules.yaml"

log = logging.getLogger(__name__)


EARLIEST_DAY, LATEST_DAY = date(1990, 1, 1), date(2199, 12, 31)


def _iso_date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-31, got {text!r}") from exc
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise argparse.ArgumentTypeError(f"expected a date between {EARLIEST_DAY} and {LATEST_DAY}, got {day}")
    return day


def _iso_month(text: str) -> date:
    """`2026-03` → the first day of that month."""
    try:
        return _iso_date(f"{text}-01")
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"expected a month like 2026-03, got {text!r}") from exc


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {value}")
    return value


# -- sandbox ---------------------------------------------------------------------------------------


def cmd_sandbox_generate(args: argparse.Namespace) -> int:
    from sandbox.world import generate_world

    info = generate_world(args.out, units=args.units, seed=args.seed, inventory_csv=args.inventory, clean=args.clean)
    print(f"world written to {args.out}: {info}")
    return 0


def _world_path(args: argparse.Namespace) -> Path:
    from sandbox.world import ensure_world

    if args.world:
        if not Path(args.world).exists():
            raise UsageError(f"world file {args.world} does not exist: generate it with `sandbox generate`")
        return Path(args.world)
    return ensure_world(settings.data_dir() / "sandbox", units=args.units, seed=args.seed)


def cmd_sandbox_serve(args: argparse.Namespace) -> int:
    from sandbox.serve import DEFAULT_ACCOUNT, DEFAULT_PASSWORD, parse_clock, parse_faults, serve, world_lines

    try:
        faults = parse_faults(args.faults) if args.faults else None
        clock = parse_clock(args.clock) if args.clock else None
    except argparse.ArgumentTypeError as exc:
        raise UsageError(str(exc)) from exc
    world = _world_path(args)
    running = serve(
        world,
        host="127.0.0.1",
        port=args.port,
        account=args.account or DEFAULT_ACCOUNT,
        password=args.password or DEFAULT_PASSWORD,
        faults=faults,
        clock=clock,
    )
    mail = None
    if args.mail_dir:
        from sandbox.smtp import MailSink

        mail = MailSink(args.mail_dir).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        for line in world_lines(running, world):
            print(line, flush=True)
        if mail is not None:
            print(f"smtp={mail.url}", flush=True)
        print("READY", flush=True)
        stop.wait()
    finally:
        running.stop()
        if mail is not None:
            mail.stop()
    return 0


def cmd_sandbox_inventory_file(args: argparse.Namespace) -> int:
    from sandbox.serve import parse_clock
    from sandbox.trading_network.developer_file import write_developer_file

    try:
        at = parse_clock(args.at)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(str(exc)) from exc
    try:
        planted = write_developer_file(_world_path(args), args.out, at=at, project_code=args.project)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(f"developer inventory written to {args.out}: {len(planted)} planted differences in {args.out}.planted.json")
    for item in planted:
        print(f"  {item['permit_no']} {item['unit_code']}: {item['kind']} ({item['why']})")
    return 0


# -- warehouse -------------------------------------------------------------------------------------


def cmd_warehouse_upgrade(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.warehouse.migrations import current_revision, upgrade

    warehouse = resolve_warehouse(args.url)
    before = current_revision(warehouse.engine)
    upgrade(warehouse.engine)
    after = current_revision(warehouse.engine)
    print(f"warehouse {warehouse.engine.url.render_as_string(hide_password=True)}: {before or 'empty'} -> {after}")
    return 0


def cmd_quality_check(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.quality.gates import check_sources

    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    as_of = args.as_of or settings.business_today()
    report = check_sources(warehouse, as_of=as_of, purpose="command line")
    print(report.summary())
    return 1 if report.failed else 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.quality.gates import GatesFailed
    from estatehub.reconcile.city import load_city_rules
    from estatehub.reconcile.errors import ReconcileError
    from estatehub.reconcile.rules import load_rules
    from estatehub.reconcile.run import RECONCILIATIONS, run_reconciliation

    try:
        city = load_city_rules(args.city_rules)
        rules = load_rules(args.rules) if args.rules.exists() or args.rules != DEFAULT_RULES else None
        warehouse = resolve_warehouse(args.url)
        warehouse.prepare()
        report = run_reconciliation(
            warehouse,
            date_from=args.date_from,
            date_to=args.date_to,
            as_of=args.as_of,
            city=city,
            rules=rules,
            only=tuple(args.only or RECONCILIATIONS),
        )
    except GatesFailed as exc:
        print(exc.report.summary())
        print("estatehub: the reconciliation did not run: a quality gate found an error (above)", file=sys.stderr)
        return 1
    except ReconcileError as exc:
        raise UsageError(str(exc)) from exc
    print(report.summary())
    return 0


def cmd_report_finance(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.reports.finance import finance_reports, load_report_config, send_finance_report, write
    from estatehub.reports.finance_data import NoReconciliation

    config = load_report_config(args.config)
    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    try:
        if args.send:
            from estatehub.mail import command_line_sender

            sent = send_finance_report(warehouse, args.date, config=config, send=command_line_sender(), out=args.out)
            print(f"finance report of {args.date} sent to {', '.join(sent)}")
        else:
            reports = finance_reports(warehouse, args.date, tuple(lst.language for lst in config.finance))
            for report in reports.values():
                for path in write(report, args.out):
                    print(path)
    except NoReconciliation as exc:
        raise UsageError(str(exc)) from exc
    return 0


def cmd_report_kpi(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.kpi.periods import report_period
    from estatehub.kpi.targets import load_targets
    from estatehub.reports.finance import load_report_config
    from estatehub.reports.kpi import kpi_reports, send_kpi_report, write

    period = report_period("week", args.week) if args.week else report_period("month", args.month)
    config = load_report_config(args.config)
    targets = load_targets(args.targets)
    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    if args.send:
        from estatehub.mail import command_line_sender

        sent = send_kpi_report(
            warehouse, period, config=config, send=command_line_sender(), out=args.out, targets=targets
        )
        print(f"KPI report {period.label} sent to {', '.join(sent)}")
        return 0
    languages = tuple(lst.language for lst in config.kpi) or ("zh-CN", "en")
    for report in kpi_reports(warehouse, period, languages, targets=targets).values():
        for path in write(report, args.out):
            print(path)
    return 0


def cmd_worklists_build(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.reconcile.city import load_city_rules
    from estatehub.worklists import build_work_lists

    city = load_city_rules(args.city_rules)
    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    print(build_work_lists(warehouse, args.date, city=city).summary())
    return 0


def cmd_report_digests(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.worklists import NoWorkLists, build_digests, load_assignees, send_digests, write_digests

    assignees = load_assignees(args.assignees)
    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    try:
        if args.send:
            from estatehub.mail import command_line_sender

            sent = send_digests(warehouse, args.date, assignees, send=command_line_sender(), out=args.out)
            print(f"digests of {args.date} sent to {', '.join(sent)}")
        else:
            for path in write_digests(build_digests(warehouse, args.date, assignees), args.out):
                print(path)
    except NoWorkLists as exc:
        raise UsageError(str(exc)) from exc
    return 0


def cmd_breaks_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from estatehub.connections import resolve_warehouse
    from estatehub.reconcile.tables import rec_break

    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    b = rec_break.c
    query = select(rec_break).order_by(b.reconciliation, b.age_days.desc(), b.break_key)
    if args.reconciliation:
        query = query.where(b.reconciliation == args.reconciliation)
    if not args.all:
        query = query.where(b.status != "resolved")
    with warehouse.engine.connect() as conn:
        rows = conn.execute(query.limit(args.limit)).all()
    print(f"{len(rows)} {'breaks' if args.all else 'open or acknowledged breaks'} (oldest first per reconciliation)")
    for r in rows:
        age = f"{r.age_days} days" if r.age_days is not None else "-"
        status = r.status + (f" by {r.who}: {r.note}" if r.status == "acknowledged" else "")
        status += f" ({r.how})" if r.status == "resolved" else ""
        what = f"{r.reconciliation}/{r.reason}  {r.subject or ''}"
        print(f"  {r.break_key}  {what}  {r.amount_fen / 100:,.2f}  {age}  {status}")
        print(f"      {r.detail}")
    return 0


def cmd_breaks_change(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.reconcile.breaks import StatusError
    from estatehub.reconcile.store import BreakNotFound, acknowledge_break, resolve_break

    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    who = args.by or _user_name()
    on = settings.business_today()
    try:
        if args.breaks_command == "ack":
            changed = acknowledge_break(warehouse.engine, args.key, who=who, note=args.note, on=on)
        else:
            changed = resolve_break(warehouse.engine, args.key, who=who, how=args.how, on=on)
    except (BreakNotFound, StatusError) as exc:
        raise UsageError(str(exc)) from exc
    print(f"break {changed.break_key}: {changed.status} by {changed.who} on {changed.changed_on}")
    return 0


def _user_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cmd_contracts_in_state(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.warehouse.queries import MAIN_CONTRACT_TYPES, contracts_in_state_on

    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    types = None if args.all_types else MAIN_CONTRACT_TYPES
    rows = contracts_in_state_on(
        warehouse.engine, state=args.state, on=args.on, not_reached=args.not_reached, contract_types=types
    )
    what = f"{'' if args.all_types else '(预售, 现售) '}in state {args.state} at the end of {args.on}"
    if args.not_reached:
        what += f" and not yet {args.not_reached}"
    print(f"{len(rows)} contracts {what}")
    for row in rows[: args.limit]:
        print("  " + "  ".join(str(value) for value in row))
    if len(rows) > args.limit:
        print(f"  ... {len(rows) - args.limit} more (--limit)")
    return 0


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.sync.quarantine import list_quarantined

    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    entries = list_quarantined(warehouse.engine, source=args.source, include_closed=args.all, limit=args.limit)
    print(f"{len(entries)} {'quarantined' if args.all else 'open quarantined'} records (newest first)")
    for e in entries:
        state = "dismissed" if e.dismissed_at else "resolved" if e.resolved_at else "open"
        print(
            f"  #{e.quarantine_id}  {e.source}/{e.entity}  {e.record_key or '(no key)'}  {state}, seen {e.seen_count}x "
            f"since {e.first_seen_at:%Y-%m-%d %H:%M} UTC: {e.reason[:200]}"
        )
    return 0


def cmd_quarantine_dismiss(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.sync.quarantine import dismiss

    warehouse = resolve_warehouse(args.url)
    warehouse.prepare()
    try:
        done = dismiss(warehouse.engine, args.ids, by=args.by, note=args.note)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    left = sorted(set(args.ids) - set(done))
    print(f"dismissed {len(done)}: {', '.join(f'#{i}' for i in done) or 'none'}")
    if left:
        print(f"not open (unknown, resolved or dismissed already): {', '.join(f'#{i}' for i in left)}")
    return 0 if done else 1


# -- sync ------------------------------------------------------------------------------------------


def _run_trading_network_sync(args: argparse.Namespace, sync: Callable[..., Any], **options: Any) -> int:
    """Run one trading-network stream's sync with the `trading_network` Connection; print its result."""
    from estatehub.connections import (
        TRADING_NETWORK_CONN_ID,
        get_connection,
        resolve_warehouse,
        trading_network_client,
    )

    conn = get_connection(TRADING_NETWORK_CONN_ID)
    if conn is None:
        raise UsageError(
            "no 'trading_network' Connection: set AIRFLOW_CONN_TRADING_NETWORK, e.g. "
            "'http://ACCOUNT:PASSWORD@host:port' (README, section Connections)"
        )
    warehouse = resolve_warehouse(args.warehouse_url)
    with trading_network_client(conn) as client:
        result = sync(client, warehouse, full=args.full, **options)
    print(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
    return 0


def cmd_sync_trading_network(args: argparse.Namespace) -> int:
    from estatehub.trading_network.sync import sync_trading_network

    sync_settings = settings.TRADING_NETWORK_SYNC
    if args.batch_size is not None:
        sync_settings = replace(sync_settings, batch_size=args.batch_size)
    return _run_trading_network_sync(args, sync_trading_network, settings=sync_settings)


def cmd_sync_unit_inventory(args: argparse.Namespace) -> int:
    from estatehub.trading_network.inventory import sync_unit_inventory

    return _run_trading_network_sync(args, sync_unit_inventory)


# -- demo ------------------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    from estatehub.up import UpOptions, run_up

    return run_up(UpOptions(units=args.units, seed=args.seed, port=args.port, speed=args.speed, home=args.home))


def cmd_demo(args: argparse.Namespace) -> int:
    from estatehub.demo import DemoError, DemoOptions, run_demo

    options = DemoOptions(units=args.units, seed=args.seed, days=args.days, last_day=args.last_day, home=args.home)
    try:
        return run_demo(options)
    except DemoError as exc:
        print(f"estatehub demo: failed: {exc}", file=sys.stderr)
        return 1


# -- parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="estatehub",
        description="estatehub: the customer service data hub (sandbox, warehouse, syncs, demo).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    parser.add_argument("--debug", action="store_true", help="on an error, show the traceback (also ESTATEHUB_DEBUG=1)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sandbox = commands.add_parser("sandbox", help="the simulated outside systems")
    sandbox_cmds = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="SUBCOMMAND")
    generate = sandbox_cmds.add_parser("generate", help="write a simulated world to a file")
    generate.add_argument("--units", type=_positive_int, default=300, help="number of units (default 300)")
    generate.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    generate.add_argument(
        "--inventory", type=Path, help="unit inventory CSV (楼栋,单元,楼层,房号,单价,建筑面积,套内面积)"
    )
    generate.add_argument("--out", type=Path, required=True, help="world file to write")
    generate.add_argument(
        "--clean", action="store_true", help="plant no irregularity in the world or its faces (false-alarm scoring)"
    )
    generate.set_defaults(func=cmd_sandbox_generate)

    serve = sandbox_cmds.add_parser("serve", help="run the simulated systems on loopback, in the foreground")
    serve.add_argument("--world", help="world file (default: generated and cached in the data folder)")
    serve.add_argument("--units", type=_positive_int, default=300, help="units when generating (default 300)")
    serve.add_argument("--seed", type=int, default=7, help="seed when generating (default 7)")
    serve.add_argument("--port", type=int, default=0, help="port of the trading network (default: any free)")
    serve.add_argument("--account", help="account the trading network and the ledger accept (default: the sandbox's)")
    serve.add_argument("--password", help="password the trading network and the ledger accept (default: the sandbox's)")
    serve.add_argument("--faults", help="fault rules, JSON or @file (sandbox/faults.py)")
    serve.add_argument("--clock", help="simulated time to start at, ISO 8601 (default: world end)")
    serve.add_argument("--mail-dir", type=Path, help="also run the mail relay, keeping each message as .eml here")
    serve.set_defaults(func=cmd_sandbox_serve)

    inventory_file = sandbox_cmds.add_parser(
        "inventory-file", help="write the developer's 一房一价 table of a project, with planted differences"
    )
    inventory_file.add_argument("--world", help="world file (default: generated and cached in the data folder)")
    inventory_file.add_argument("--units", type=_positive_int, default=300, help="units when generating (default 300)")
    inventory_file.add_argument("--seed", type=int, default=7, help="seed when generating (default 7)")
    inventory_file.add_argument("--project", help="project code (default: the first)")
    inventory_file.add_argument("--at", required=True, help="the network's clock to copy, ISO 8601")
    inventory_file.add_argument("--out", type=Path, required=True, help="CSV file to write")
    inventory_file.set_defaults(func=cmd_sandbox_inventory_file)

    warehouse = commands.add_parser("warehouse", help="the warehouse")
    warehouse_cmds = warehouse.add_subparsers(dest="warehouse_command", required=True, metavar="SUBCOMMAND")
    upgrade = warehouse_cmds.add_parser("upgrade", help="apply the migrations to the configured warehouse")
    upgrade.add_argument("--url", help="SQLAlchemy URL (default: the 'warehouse' Connection, else embedded SQLite)")
    upgrade.set_defaults(func=cmd_warehouse_upgrade)

    contracts = commands.add_parser("contracts", help="ask the warehouse about contracts")
    contracts_cmds = contracts.add_subparsers(dest="contracts_command", required=True, metavar="SUBCOMMAND")
    in_state = contracts_cmds.add_parser(
        "in-state", help="contracts in a state at the end of a business day (e.g. 已签 and not yet 已备案)"
    )
    in_state.add_argument("--state", required=True, help="state, e.g. 已签")
    in_state.add_argument("--on", type=_iso_date, required=True, help="business day (Asia/Shanghai), e.g. 2026-03-31")
    in_state.add_argument("--not-reached", help="and not yet in this state, e.g. 已备案")
    in_state.add_argument("--all-types", action="store_true", help="include 认购 agreements (default: 预售, 现售)")
    in_state.add_argument("--limit", type=_positive_int, default=20, help="rows to print (default 20)")
    in_state.add_argument("--url", help="warehouse SQLAlchemy URL")
    in_state.set_defaults(func=cmd_contracts_in_state)

    rec = commands.add_parser(
        "reconcile", help="the quality gates, then every reconciliation over a period; breaks kept with their status"
    )
    rec.add_argument(
        "--from", dest="date_from", type=_iso_date, required=True, help="first business day, e.g. 2026-01-01"
    )
    rec.add_argument("--to", dest="date_to", type=_iso_date, required=True, help="last business day")
    rec.add_argument("--as-of", type=_iso_date, help="the day breaks are aged at (default: --to)")
    rec.add_argument(
        "--only",
        action="append",
        choices=("contracts", "receivables", "loans", "cash", "invoices"),
        help="this one only",
    )
    rec.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="finance's matching rules (YAML or CSV)")
    rec.add_argument("--city-rules", type=Path, default=None, help="the city's rules (default config/city_rules.yaml)")
    rec.add_argument("--url", help="warehouse SQLAlchemy URL")
    rec.set_defaults(func=cmd_reconcile)

    report = commands.add_parser("report", help="the reports people receive")
    report_cmds = report.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    r_fin = report_cmds.add_parser(
        "finance", help="the daily reconciliation report: HTML email and workbook, per recipient list and language"
    )
    r_fin.add_argument("--date", type=_iso_date, required=True, help="the day reconciled (the run's as-of day)")
    r_fin.add_argument("--out", type=Path, default=Path("."), help="folder for the files (default: here)")
    r_fin.add_argument("--send", action="store_true", help="also send it through the smtp_default Connection")
    r_fin.add_argument("--config", type=Path, default=None, help="recipient lists (default config/reports.yaml)")
    r_fin.add_argument("--url", help="warehouse SQLAlchemy URL")
    r_fin.set_defaults(func=cmd_report_finance)
    r_kpi = report_cmds.add_parser(
        "kpi", help="the manager's weekly or monthly KPI report: HTML email with charts and workbook, per language"
    )
    when = r_kpi.add_mutually_exclusive_group(required=True)
    when.add_argument("--week", type=_iso_date, help="a day of the week (Monday to Sunday) to report, e.g. 2026-03-29")
    when.add_argument("--month", type=_iso_month, help="the month to report, e.g. 2026-03")
    r_kpi.add_argument("--out", type=Path, default=Path("."), help="folder for the files (default: here)")
    r_kpi.add_argument("--send", action="store_true", help="also send it through the smtp_default Connection")
    r_kpi.add_argument("--config", type=Path, default=None, help="recipient lists (default config/reports.yaml)")
    r_kpi.add_argument("--targets", type=Path, default=None, help="targets (default config/kpi_targets.yaml)")
    r_kpi.add_argument("--url", help="warehouse SQLAlchemy URL")
    r_kpi.set_defaults(func=cmd_report_kpi)

    r_dig = report_cmds.add_parser(
        "digests", help="the work lists' daily digest: HTML email and workbook, to each specialist and supervisor"
    )
    r_dig.add_argument("--date", type=_iso_date, required=True, help="the day the work lists were built as of")
    r_dig.add_argument("--out", type=Path, default=Path("."), help="folder for the files (default: here)")
    r_dig.add_argument("--send", action="store_true", help="also send them through the smtp_default Connection")
    r_dig.add_argument(
        "--assignees", type=Path, default=None, help="who works which projects (default config/assignees.yaml)"
    )
    r_dig.add_argument("--url", help="warehouse SQLAlchemy URL")
    r_dig.set_defaults(func=cmd_report_digests)

    wl = commands.add_parser("worklists", help="the specialists' work lists, one per process")
    wl_cmds = wl.add_subparsers(dest="worklists_command", required=True, metavar="COMMAND")
    wl_build = wl_cmds.add_parser(
        "build", help="build the work lists as of a day into the mart (after the reconciliation of that day)"
    )
    wl_build.add_argument("--date", type=_iso_date, required=True, help="the business day to judge the lists as of")
    wl_build.add_argument(
        "--city-rules", type=Path, default=None, help="the city's rules (default config/city_rules.yaml)"
    )
    wl_build.add_argument("--url", help="warehouse SQLAlchemy URL")
    wl_build.set_defaults(func=cmd_worklists_build)

    brk = commands.add_parser("breaks", help="what the reconciliations found: list, acknowledge, resolve")
    brk_cmds = brk.add_subparsers(dest="breaks_command", required=True, metavar="SUBCOMMAND")
    b_list = brk_cmds.add_parser("list", help="open and acknowledged breaks, oldest first")
    b_list.add_argument(
        "--reconciliation", choices=("contracts", "receivables", "loans", "invoices", "cash"), help="this one only"
    )
    b_list.add_argument("--all", action="store_true", help="resolved breaks too")
    b_list.add_argument("--limit", type=_positive_int, default=50, help="breaks to print (default 50)")
    b_list.add_argument("--url", help="warehouse SQLAlchemy URL")
    b_list.set_defaults(func=cmd_breaks_list)
    b_ack = brk_cmds.add_parser("ack", help="finance has seen a break and says why it stays (kept across runs)")
    b_ack.add_argument("key", help="the break's key (breaks list)")
    b_ack.add_argument("--note", required=True, help="why it stays")
    b_ack.add_argument("--by", help="who (default: your user name)")
    b_ack.add_argument("--url", help="warehouse SQLAlchemy URL")
    b_ack.set_defaults(func=cmd_breaks_change)
    b_res = brk_cmds.add_parser("resolve", help="close a break by hand; it opens again if the same items break again")
    b_res.add_argument("key", help="the break's key (breaks list)")
    b_res.add_argument("--how", required=True, help="what was done")
    b_res.add_argument("--by", help="who (default: your user name)")
    b_res.add_argument("--url", help="warehouse SQLAlchemy URL")
    b_res.set_defaults(func=cmd_breaks_change)

    quality = commands.add_parser("quality", help="quality gates: is each source whole before reconciling?")
    quality_cmds = quality.add_subparsers(dest="quality_command", required=True, metavar="SUBCOMMAND")
    q_check = quality_cmds.add_parser(
        "check", help="run every gate, keep the findings, print them; exit 1 when a gate found an error"
    )
    q_check.add_argument("--as-of", type=_iso_date, help="business day to check up to (default: today, Asia/Shanghai)")
    q_check.add_argument("--url", help="warehouse SQLAlchemy URL")
    q_check.set_defaults(func=cmd_quality_check)

    quarantine = commands.add_parser("quarantine", help="records the syncs could not accept")
    quarantine_cmds = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="SUBCOMMAND")
    q_list = quarantine_cmds.add_parser("list", help="the open quarantined records, newest first, with their reasons")
    q_list.add_argument("--source", help="only this source, e.g. trading_network, bank_icbc, finance_ledger")
    q_list.add_argument("--all", action="store_true", help="resolved and dismissed records too")
    q_list.add_argument("--limit", type=_positive_int, default=50, help="records to print (default 50)")
    q_list.add_argument("--url", help="warehouse SQLAlchemy URL")
    q_list.set_defaults(func=cmd_quarantine_list)
    q_dismiss = quarantine_cmds.add_parser(
        "dismiss", help="let quarantined records go: they are kept but no longer fetched again"
    )
    q_dismiss.add_argument("ids", type=_positive_int, nargs="+", help="quarantine ids (#N in `quarantine list`)")
    q_dismiss.add_argument("--by", required=True, help="who dismisses them")
    q_dismiss.add_argument("--note", required=True, help="why (kept with the records)")
    q_dismiss.add_argument("--url", help="warehouse SQLAlchemy URL")
    q_dismiss.set_defaults(func=cmd_quarantine_dismiss)

    sync = commands.add_parser("sync", help="run a sync once (the same code as the Airflow task)")
    sync_cmds = sync.add_subparsers(dest="sync_command", required=True, metavar="SOURCE")
    tn = sync_cmds.add_parser("trading-network", help="contracts from the housing trading network")
    tn.add_argument("--full", action="store_true", help="full refresh instead of incremental")
    tn.add_argument("--warehouse-url", help="warehouse SQLAlchemy URL (default: the 'warehouse' Connection)")
    tn.add_argument(
        "--batch-size",
        type=_positive_int,
        help=f"records per write transaction (default {settings.TRADING_NETWORK_SYNC.batch_size:,})",
    )
    tn.set_defaults(func=cmd_sync_trading_network)
    inv = sync_cmds.add_parser(
        "unit-inventory", help="the permits' building tables (楼盘表) from the housing trading network"
    )
    inv.add_argument("--full", action="store_true", help="full refresh instead of incremental")
    inv.add_argument("--warehouse-url", help="warehouse SQLAlchemy URL (default: the 'warehouse' Connection)")
    inv.set_defaults(func=cmd_sync_unit_inventory)
    from estatehub.ledger.cli import add_ledger_commands

    add_ledger_commands(sync_cmds)

    from estatehub.banks.cli import add_bank_commands
    from estatehub.policy.cli import add_policy_commands

    add_bank_commands(commands)
    from estatehub.inventory.cli import add_inventory_commands

    add_inventory_commands(commands)
    add_policy_commands(commands)

    demo = commands.add_parser("demo", help="run the whole pipeline on the sandbox through Airflow")
    demo.add_argument("--units", type=_positive_int, default=300, help="units in the world (default 300)")
    demo.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    demo.add_argument("--days", type=_positive_int, default=5, help="simulated days to run (default 5)")
    demo.add_argument("--last-day", type=_iso_date, default=None, help="last simulated business day")
    demo.add_argument("--home", type=Path, default=None, help="demo folder (default: <data folder>/demo)")
    demo.set_defaults(func=cmd_demo)

    up = commands.add_parser("up", help="Airflow standalone over the sandbox at http://127.0.0.1:8080, DAGs unpaused")
    up.add_argument("--units", type=_positive_int, default=300, help="units in the world (default 300)")
    up.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    up.add_argument("--port", type=int, default=8080, help="port of the UI and API (default 8080)")
    up.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall-clock second (default 60)")
    up.add_argument(
        "--home", type=Path, default=None, help="folder of Airflow and the warehouse (default: <data folder>/up)"
    )
    up.set_defaults(func=cmd_up)
    return parser


def describe_error(exc: BaseException) -> str:
    """What went wrong, in a line a person can act on (the type's own message where it is written for
    people; the first line of a driver's message otherwise)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, DBAPIError):
        driver = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return (
            f"the warehouse refused or could not be reached: {driver}. Check the 'warehouse' Connection or --url "
            "(is the server running, does the database exist, is the file a SQLite database?)"
        )
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return f"the warehouse URL cannot be used: {first_line}. Use sqlite:///PATH or postgresql://USER@HOST/DB"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or first_line}: {exc.filename}"
    return first_line


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("ESTATEHUB_DEBUG", "").lower() in ("1", "true", "yes")
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except UsageError as exc:
        parser.exit(2, f"estatehub: error: {exc}\n")
    except KeyboardInterrupt:
        print("estatehub: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the command line's last word: one readable line, the traceback with --debug
        if debug:
            raise
        log.debug("the command failed", exc_info=True)
        print(f"estatehub: error: {describe_error(exc)}", file=sys.stderr)
        print("  (run again with --debug, or ESTATEHUB_DEBUG=1, to see where it failed)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
