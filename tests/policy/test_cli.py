"""`estatehub policy check|validate`: documented, strict about arguments, and the same run as the DAG."""

from __future__ import annotations

import argparse
import json

import pytest

from estatehub.policy.cli import add_policy_commands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="estatehub")
    add_policy_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


@pytest.mark.parametrize("path", [["policy"], ["policy", "check"], ["policy", "validate"]])
def test_every_policy_command_has_help(path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args([*path, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: estatehub policy")


@pytest.mark.parametrize("argv", [["policy"], ["policy", "check", "--bogus"], ["policy", "frobnicate"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_validate_reads_the_shipped_watch_file(capsys):
    assert _run(["policy", "validate"]) == 0
    out = capsys.readouterr().out
    assert "2 watches, 8 topics, OK" in out and "通知公告" in out


def test_an_unusable_watch_file_is_a_usage_error(tmp_path):
    from estatehub.errors import UsageError

    bad = tmp_path / "watches.yaml"
    bad.write_text("version: 1\nsite: {}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"site\.base_url"):
        _run(["policy", "validate", "--config", str(bad)])


def test_check_without_an_smtp_connection_says_what_to_set(monkeypatch, tmp_path):
    from estatehub.errors import UsageError

    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setenv("ESTATEHUB_HOME", str(tmp_path))
    with pytest.raises(UsageError, match="AIRFLOW_CONN_SMTP_DEFAULT"):
        _run(["policy", "check", "--warehouse-url", f"sqlite:///{tmp_path / 'w.db'}"])


def test_check_runs_once_against_the_site_of_the_bureau_site_connection(
    bureau, mail_sink, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("ESTATEHUB_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_BUREAU_SITE", bureau.url)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://{mail_sink.host}:{mail_sink.port}?disable_ssl=true&disable_tls=true"
    )
    config = tmp_path / "watches.yaml"
    from estatehub.policy.config import DEFAULT_CONFIG_PATH

    # the shipped file, with no pause between requests (the sandbox needs none)
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
        "min_interval_seconds: 2.0", "min_interval_seconds: 0"
    )
    config.write_text(text, encoding="utf-8")
    assert _run(["policy", "check", "--config", str(config), "--warehouse-url", f"sqlite:///{tmp_path / 'w.db'}"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [w["status"] for w in result["watches"]] == ["ok", "ok"]
    assert [w["baseline"] for w in result["watches"]] == [True, True]
    assert result["changes"] == {}
