from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, MetaData, Table, insert, select

from estatehub.pii import PiiHasher
from estatehub.warehouse import PiiKeyMismatch, Warehouse, create_warehouse_engine
from estatehub.warehouse.engine import normalize_url
from estatehub.warehouse.types import Area, UtcDateTime, from_fen, to_area, to_fen


def test_sqlite_engine_uses_wal_busy_timeout_foreign_keys_and_normal_sync(tmp_path):
    path = tmp_path / "new" / "folder" / "warehouse.db"
    engine = create_warehouse_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"pragma {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    engine.dispose()
    assert path.parent.is_dir()
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1, "synchronous": 1}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/wh", "postgresql+psycopg://u:p@db:5432/wh"),
        ("postgresql://u@db/wh", "postgresql+psycopg://u@db/wh"),
        ("postgresql+psycopg://u@db/wh", "postgresql+psycopg://u@db/wh"),
        ("sqlite:///var/w.db", "sqlite:///var/w.db"),
        ("var/w.db", "sqlite:///var/w.db"),
    ],
)
def test_warehouse_urls_map_postgres_to_psycopg_and_paths_to_sqlite(given, expected):
    assert normalize_url(given).render_as_string(hide_password=False) == expected


def test_utc_datetime_stores_utc_and_returns_aware_utc(engine):
    table = Table("t_moment", MetaData(), Column("at", UtcDateTime))
    table.create(engine)
    shanghai = datetime(2026, 3, 31, 10, 15, 30, 123456, tzinfo=timezone(timedelta(hours=8)))
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": shanghai}])
        stored = conn.execute(select(table.c.at)).scalar_one()
        later = conn.execute(select(table.c.at).where(table.c.at > datetime(2026, 3, 31, 2, tzinfo=UTC))).all()
    assert stored == shanghai
    assert stored.tzinfo == UTC
    assert stored.hour == 2
    assert len(later) == 1


def test_utc_datetime_refuses_a_naive_datetime(engine):
    table = Table("t_naive", MetaData(), Column("at", UtcDateTime))
    table.create(engine)
    with pytest.raises(Exception, match="timezone-aware"), engine.begin() as conn:
        conn.execute(insert(table), [{"at": datetime(2026, 3, 31, 10, 15)}])


def test_areas_keep_two_decimals_on_both_backends(engine):
    table = Table("t_area", MetaData(), Column("area", Area))
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"area": Decimal("89.12")}, {"area": Decimal("12345678.99")}])
        values = sorted(conn.execute(select(table.c.area)).scalars())
    assert values == [Decimal("89.12"), Decimal("12345678.99")]


def test_money_converts_yuan_to_fen_exactly_and_refuses_fractions_of_a_fen():
    assert to_fen(Decimal("4010400.00")) == 401040000
    assert to_fen(Decimal("-12600.5")) == -1260050
    assert from_fen(401040001) == Decimal("4010400.01")
    with pytest.raises(ValueError, match="at most two decimals"):
        to_fen(Decimal("0.001"))
    with pytest.raises(ValueError, match="two decimals"):
        to_area(Decimal("89.123"))


def test_pii_key_fingerprint_is_recorded_and_a_different_key_is_refused(engine):
    first = Warehouse(engine, PiiHasher(b"first-key-0123456789abcdefghijkl"))
    first.prepare()
    first.prepare()  # the same key again is fine
    other = Warehouse(engine, PiiHasher(b"other-key-0123456789abcdefghijkl"))
    with pytest.raises(PiiKeyMismatch, match="fingerprint"):
        other.prepare()
