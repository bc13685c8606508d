"""Shared fixtures: warehouses on SQLite and PostgreSQL.

Every warehouse test runs on both backends through the `warehouse_url` fixture. PostgreSQL is the
server at 127.0.0.1:5432 (user postgres, trust auth), or `ESTATEHUB_TEST_POSTGRES_URL`; each test gets
a fresh database `estatehub_test_<uuid>`, dropped afterwards. When the server cannot be reached, the
PostgreSQL cases are skipped with the reason — except under CI (`CI=true`), where the whole session
fails at once: a green CI must mean the PostgreSQL path was tested.

The syncs prepare their batches ahead in a thread here (`ESTATEHUB_READ_AHEAD=thread`), not in a forked
process (the installations' default): the tests' fake sources count their calls and watch the collector in
this process. The forked read-ahead has its own tests (`tests/sync/test_read_ahead_process.py`), and the
end-to-end tests against the sandbox's servers run with it (`tests/e2e/conftest.py`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from estatehub.pii import PiiHasher
from estatehub.warehouse import Warehouse, create_warehouse_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEST_PII_KEY = b"estatehub-tests-pii-key-0123456789"

_postgres_problem: str | None = None


@pytest.fixture(autouse=True)
def _read_ahead_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESTATEHUB_READ_AHEAD", "thread")


def postgres_admin_url() -> str:
    return os.environ.get("ESTATEHUB_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def _probe_postgres() -> str | None:
    """None when the PostgreSQL server answers, else what went wrong."""
    import psycopg

    try:
        with _admin_connection() as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        shown = make_url(postgres_admin_url()).render_as_string(hide_password=True)
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL at {shown} is unreachable ({first_line})"
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _postgres_problem
    _postgres_problem = _probe_postgres()
    if _postgres_problem and os.environ.get("CI", "").lower() == "true":
        pytest.exit(
            f"{_postgres_problem}. CI=true requires the PostgreSQL tests to run: start PostgreSQL on "
            f"127.0.0.1:5432 (user postgres) or set ESTATEHUB_TEST_POSTGRES_URL.",
            returncode=3,
        )


def _admin_connection():
    import psycopg

    url = make_url(postgres_admin_url())
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=url.database or "postgres",
        autocommit=True,
        connect_timeout=5,
    )


def create_postgres_database() -> tuple[str, str]:
    """A new empty database `estatehub_test_<uuid>`: (name, SQLAlchemy URL)."""
    name = f"estatehub_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as conn:
        conn.execute(f'create database "{name}"')
    url = make_url(postgres_admin_url()).set(drivername="postgresql+psycopg", database=name)
    return name, url.render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    with _admin_connection() as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    if _postgres_problem:
        pytest.skip(_postgres_problem)
    name, url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of an empty warehouse database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse' / 'warehouse.db'}"
    return request.getfixturevalue("postgres_database_url")


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[Engine]:
    """An engine on an empty warehouse database (no migrations applied)."""
    engine = create_warehouse_engine(warehouse_url)
    yield engine
    engine.dispose()


@pytest.fixture
def warehouse(engine: Engine) -> Warehouse:
    """A `Warehouse` at the head revision, with the tests' PII key."""
    warehouse = Warehouse(engine, PiiHasher(TEST_PII_KEY))
    warehouse.prepare()
    return warehouse


@pytest.fixture
def make_warehouse(warehouse_url: str, tmp_path) -> Iterator[Callable[[], Warehouse]]:
    """A factory of more warehouses on the backend of `warehouse_url`: each new, empty, at head."""
    made: list[Warehouse] = []
    databases: list[str] = []

    def make() -> Warehouse:
        if warehouse_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'warehouse-{len(made) + 1}.db'}"
        else:
            name, url = create_postgres_database()
            databases.append(name)
        other = Warehouse.from_url(url, pii_key=TEST_PII_KEY)
        other.prepare()
        made.append(other)
        return other

    yield make
    for other in made:
        other.dispose()
    for name in databases:
        drop_postgres_database(name)
