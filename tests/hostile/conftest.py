from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import TEST_PII_KEY


@pytest.fixture
def cli(warehouse, tmp_path, monkeypatch) -> Callable[..., int]:
    """`python -m estatehub ARGV --warehouse-url <the test's warehouse>`, in this process, with the tests'
    PII key (the embedded key file of a data folder of the test's own)."""
    from estatehub.cli import main

    home = tmp_path / "home"
    home.mkdir()
    (home / "pii.key").write_bytes(TEST_PII_KEY)
    monkeypatch.setenv("ESTATEHUB_HOME", str(home))
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    url = warehouse.engine.url.render_as_string(hide_password=False)

    def run(*argv: str) -> int:
        return main([*argv, "--warehouse-url", url])

    return run
