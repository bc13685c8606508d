"""Start the sandbox's servers on loopback over one world store.

`serve(world_path, account=..., password=...)` starts every server in daemon threads and returns a
`RunningSandbox` (`.urls` by server name, `.servers`, `.stop()`, a context manager): the housing
trading network, the banks and the provident-fund centre (by bank code), the finance ledger and
the real estate bureau's website, each under its own name.

`python -m sandbox.serve WORLD [--port N] [--faults JSON|@file] [--clock ISO]` runs them in the
foreground: it prints `name=url` for each server, then `READY`, and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from sandbox.banks.accounts import LOAN_BANKS as BANK_CODES
from sandbox.banks.server import start_bank_servers
from sandbox.banks.world import ensure_bank_world
from sandbox.bureau.server import start_bureau_server
from sandbox.faults import FaultRuleError, load_rules
from sandbox.http_base import SandboxServer
from sandbox.ledger.server import start_ledger_server
from sandbox.trading_network.server import DEFAULT_TOKEN_TTL, TradingNetworkServer
from sandbox.world import open_world

log = logging.getLogger(__name__)

SERVER_NAMES = ("trading_network", "ledger", "bureau", *BANK_CODES)
GROUPS = ("trading_network", "banks", "ledger", "bureau")
DEFAULT_ACCOUNT = "dev-sandbox"
DEFAULT_PASSWORD = "sandbox-only-password"  # the sandbox's own fake login, not a secret of any real system


class RunningSandbox:
    """The started servers by name; `stop()` (or leaving the `with` block) stops them all."""

    def __init__(self, servers: Mapping[str, SandboxServer]) -> None:
        self.servers = dict(servers)

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def __getitem__(self, name: str) -> SandboxServer:
        return self.servers[name]

    def stop(self) -> None:
        for name, server in reversed(list(self.servers.items())):
            server.stop()
            log.info("%s stopped", name)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def faults_by_server(faults: Any) -> dict[str, Any]:
    """Split a fault spec per server.

    Accepts None; a list of rules or `{"rules": [...], "seed": n}` (for every server); or
    `{"trading_network": <list or {"rules": ...}>, ...}` keyed by server name.
    """
    if faults is None:
        return {}
    if isinstance(faults, str | Path):
        faults = load_rules(faults)
    if isinstance(faults, Mapping) and "rules" not in faults:
        unknown = set(faults) - set(SERVER_NAMES)
        if unknown:
            raise FaultRuleError(f"faults name unknown servers {sorted(unknown)}; servers: {', '.join(SERVER_NAMES)}")
        return {name: load_rules(spec) for name, spec in faults.items()}
    spec = load_rules(faults)
    return dict.fromkeys(SERVER_NAMES, spec)


def serve(
    world_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    account: str,
    password: str,
    faults: Any = None,
    clock: datetime | None = None,
    token_ttl: float = DEFAULT_TOKEN_TTL,
    ports: Mapping[str, int] | None = None,
    only: Collection[str] | None = None,
) -> RunningSandbox:
    """Start the sandbox servers over `world_path`; `port` is the trading network's (0: any free one),
    `ports` gives other servers theirs by name. `faults`: see `faults_by_server`. `only` names the
    groups to start (`GROUPS`; default all)."""
    per_server = faults_by_server(faults)
    ports = {"trading_network": port, **(ports or {})}
    wanted = set(GROUPS if only is None else only)
    unknown = wanted - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown sandbox servers {sorted(unknown)}; choose from {', '.join(GROUPS)}")
    seed = _world_seed(world_path)
    servers: dict[str, SandboxServer] = {}
    try:
        if "trading_network" in wanted:
            servers["trading_network"] = TradingNetworkServer(
                world_path,
                account=account,
                password=password,
                host=host,
                port=ports["trading_network"],
                faults=per_server.get("trading_network"),
                clock=clock,
                token_ttl=token_ttl,
            ).start()
        if "banks" in wanted:
            # one server per bank and the provident-fund centre, over the same world and clock
            banks = start_bank_servers(
                world_path,
                seed=seed,
                host=host,
                clock=clock,
                faults={code: per_server[code] for code in BANK_CODES if code in per_server},
            )
            servers.update(banks.servers)
        if "ledger" in wanted:
            # the finance ledger: what finance booked of the same world's money
            servers["ledger"] = start_ledger_server(
                world_path,
                seed=seed,
                bank_world=ensure_bank_world(world_path),  # the clerk books what the statements show
                host=host,
                port=ports.get("ledger", 0),
                clock=clock,
                faults=per_server.get("ledger"),
                account=account,
                password=password,
            )
        if "bureau" in wanted:
            # the bureau's website has its own simulated history and clock (see sandbox/bureau/world.py)
            servers["bureau"] = start_bureau_server(
                seed=seed, host=host, port=ports.get("bureau", 0), faults=per_server.get("bureau")
            )
    except BaseException:
        RunningSandbox(servers).stop()
        raise
    return RunningSandbox(servers)


def _world_seed(world_path: str | Path) -> int:
    with open_world(world_path) as world:
        return int(world.meta.get("seed", 0))


def world_lines(running: RunningSandbox, world_path: str | Path) -> list[str]:
    """What a serving process prints before `READY`, one `name=value` a line: each server's URL by its
    name, `world=<path>`, `world.<key>=<value>` of the world's meta (start_on, end_on, contracts, seed),
    and `credentials.<bank>=<app id>:<secret>` of each bank server (the sandbox's own fake ones), so a
    driver can point its Connections at the sandbox without importing it."""
    from sandbox.banks.server import default_credentials

    lines = [f"{name}={url}" for name, url in running.urls.items()]
    lines.append(f"world={world_path}")
    with open_world(world_path) as world:
        meta = world.meta
    lines += [f"world.{key}={meta[key]}" for key in ("seed", "units", "start_on", "end_on", "contracts") if key in meta]
    seed = int(meta.get("seed", 0))
    for code in BANK_CODES:
        if code in running.servers:
            credentials = default_credentials(code, seed)
            lines.append(f"credentials.{code}={credentials.app_id}:{credentials.secret}")
    return lines


def parse_clock(text: str) -> datetime:
    from sandbox.world.clock import BUSINESS_TZ

    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an ISO time like 2026-03-31T18:00:00+08:00, got {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)


def parse_faults(text: str) -> Any:
    try:
        if text.startswith("@"):
            return json.loads(Path(text[1:]).read_text(encoding="utf-8"))
        return json.loads(text) if text.lstrip().startswith(("[", "{")) else json.loads(Path(text).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"expected fault rules as JSON, @file or a file path: {exc}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("world", type=Path, help="world store file (written by sandbox.world)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="trading network port (default: any free port)")
    parser.add_argument("--account", default=DEFAULT_ACCOUNT, help="account the trading network accepts")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password the trading network accepts")
    parser.add_argument("--faults", type=parse_faults, help="fault rules: JSON, @file or a file (sandbox/faults.py)")
    parser.add_argument("--clock", type=parse_clock, help="simulated time to start at (default: world end)")
    parser.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL, help="token lifetime, seconds")
    parser.add_argument("--log-level", default="WARNING", help="logging level (DEBUG shows every request)")
    parser.add_argument(
        "--only", action="append", choices=GROUPS, help="start only this group of servers (repeatable; default all)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        running = serve(
            args.world,
            host=args.host,
            port=args.port,
            account=args.account,
            password=args.password,
            faults=args.faults,
            clock=args.clock,
            token_ttl=args.token_ttl,
            only=args.only,
        )
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"sandbox: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        for line in world_lines(running, args.world):
            print(line, flush=True)
        print("READY", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
