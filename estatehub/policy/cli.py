"""`estatehub policy ...`: the policy monitor from the command line.

    python -m estatehub policy check [--config PATH] [--warehouse-url URL]
    python -m estatehub policy validate [--config PATH]

`add_policy_commands(subparsers)` adds them to the main parser (estatehub/cli.py). Bad arguments,
an unusable watch file and missing Connections exit with code 2 and say what to fix.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from estatehub.settings import POLICY_WATCHES  # not `policy.config`: building the parser stays light


def _usage_error(message: str) -> Exception:
    from estatehub.errors import UsageError

    return UsageError(message)


def cmd_policy_check(args: argparse.Namespace) -> int:
    from estatehub.connections import ConnectionConfigError
    from estatehub.policy.config import PolicyConfigError
    from estatehub.policy.runtime import check_once

    try:
        result = check_once(args.config, args.warehouse_url)
    except (PolicyConfigError, ConnectionConfigError) as exc:
        raise _usage_error(str(exc)) from exc
    print(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
    return 0


def cmd_policy_validate(args: argparse.Namespace) -> int:
    from estatehub.policy.config import PolicyConfigError, load_config

    try:
        config = load_config(args.config)
    except PolicyConfigError as exc:
        raise _usage_error(str(exc)) from exc
    print(f"{config.source}: {len(config.watches)} watches, {len(config.topics)} topics, OK")
    for watch in config.watches:
        print(f"  {watch.id}  {watch.name}  {watch.url}  (list: {watch.list.selectors.item})")
    print(f"  allowed hosts: {', '.join(config.site.allowed_hosts)}")
    print(f"  alerts to: {', '.join(config.alerts.recipients)}")
    return 0


def add_policy_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add `policy check` and `policy validate` to the main parser's subcommands."""
    policy = subparsers.add_parser("policy", help="the policy-change monitor of the bureau's website")
    commands = policy.add_subparsers(dest="policy_command", required=True, metavar="SUBCOMMAND")
    check = commands.add_parser(
        "check", help="check the bureau's website once, record what changed and send the due alerts"
    )
    check.add_argument("--config", type=Path, help=f"watch file (default: {POLICY_WATCHES.name} in config/)")
    check.add_argument(
        "--warehouse-url", help="warehouse SQLAlchemy URL (default: the 'warehouse' Connection, else embedded SQLite)"
    )
    check.set_defaults(func=cmd_policy_check)
    validate = commands.add_parser("validate", help="check the watch file without fetching anything")
    validate.add_argument("--config", type=Path, help=f"watch file (default: {POLICY_WATCHES.name} in config/)")
    validate.set_defaults(func=cmd_policy_validate)
