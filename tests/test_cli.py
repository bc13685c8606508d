"""The command line: every command documented with --help, bad arguments rejected with exit code 2."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from estatehub.cli import build_parser, main


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += _command_paths(sub, (*prefix, name))
    return paths


COMMANDS = _command_paths(build_parser())


def test_the_issue_commands_exist():
    assert {
        ("sandbox", "serve"),
        ("warehouse", "upgrade"),
        ("sync", "trading-network"),
        ("demo",),
    } <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "estatehub")
def test_every_command_has_help_with_a_description(path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: estatehub")
    for action in _subparser(path)._actions:
        if not isinstance(action, argparse._SubParsersAction):
            assert action.help, f"{' '.join(path)} option {action.dest} has no help text"


def _subparser(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["sync", "trading-network", "--no-such-flag"],
        ["demo", "--units", "-3"],
        ["demo", "--last-day", "31/03/2026"],
        ["sandbox", "serve", "--clock", "yesterday"],
        ["contracts", "in-state", "--state", "已签"],
    ],
)
def test_bad_arguments_exit_2_with_a_clear_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_sync_without_a_connection_exits_2_and_says_what_to_set(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("AIRFLOW_CONN_TRADING_NETWORK", raising=False)
    monkeypatch.setenv("ESTATEHUB_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        main(["sync", "trading-network"])
    assert exit_info.value.code == 2
    assert "AIRFLOW_CONN_TRADING_NETWORK" in capsys.readouterr().err


def test_python_dash_m_estatehub_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "estatehub", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "sandbox" in result.stdout and "sync" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "estatehub", "frobnicate"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2


def test_the_demo_hands_the_sandbox_a_password_that_begins_with_a_dash():
    from estatehub.cli import build_parser
    from estatehub.demo import serve_command

    args = build_parser().parse_args(serve_command(50, 7, "demo", "-Xy_secret"))
    assert (args.account, args.password) == ("demo", "-Xy_secret")


def test_help_imports_no_client_database_or_parsing_library():
    """`estatehub --help` starts fast (decision 0026): building the parser imports no HTTP client, no
    database layer, no HTML or spreadsheet parser, and not Airflow — each command imports its own."""
    probe = (
        "import sys\n"
        "from estatehub.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('requests', 'urllib3', 'sqlalchemy', 'pandas', 'openpyxl', 'bs4', 'soupsieve', 'yaml',\n"
        "         'airflow', 'connectors', 'estatehub.warehouse')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
