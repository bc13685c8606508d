"""Column types of the warehouse, the same on SQLite and PostgreSQL.

- `UtcDateTime`: an instant. Stored in UTC (PostgreSQL `timestamptz`; SQLite text
  `YYYY-MM-DD HH:MM:SS.ffffff` that sorts as time does) and always returned as an aware UTC
  `datetime`. A naive `datetime` is refused: the warehouse cannot guess its zone.
- `Money`: integer fen (分), `BigInteger`. Convert with `to_fen`.
- `Area`: m² with two decimals, `Numeric(12, 2)`.
- `Payload`: a JSON document (PostgreSQL `jsonb`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Numeric
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

Money = BigInteger
Area = Numeric(12, 2)
Share = Numeric(5, 2)
Payload = JSON().with_variant(postgresql.JSONB(), "postgresql")
# an auto-numbered surrogate key: BIGSERIAL on PostgreSQL, the rowid alias on SQLite
SurrogateKey = BigInteger().with_variant(Integer(), "sqlite")

_FEN = Decimal(100)
_CENT = Decimal("0.01")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC `datetime` in, an aware UTC `datetime` out, on both dialects."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(DateTime())

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite: straight to the text SQLAlchemy's DATETIME writes and reads (bulk loads bind many)
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if type(value) is datetime and value.tzinfo is UTC:  # the common case, in one call
                return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
            utc = self.process_bind_param(value, dialect)
            return utc.isoformat(" ", "microseconds")

        return process

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got the naive {value.isoformat()}")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def to_fen(amount: Decimal | None) -> int | None:
    """Yuan → integer fen, exactly; an amount with a fraction of a fen is refused, never rounded."""
    if amount is None:
        return None
    fen = amount * _FEN
    if not fen.is_finite() or fen != fen.to_integral_value() or abs(fen) >= 2**63:
        raise ValueError(f"expected an amount in yuan with at most two decimals, got {amount}")
    return int(fen)


def from_fen(fen: int | None) -> Decimal | None:
    """Integer fen → `Decimal` yuan with two decimals."""
    if fen is None:
        return None
    return (Decimal(fen) / _FEN).quantize(_CENT)


def to_area(value: Decimal | None) -> Decimal | None:
    """An area in m² with at most two decimals (and below 10¹⁰); anything else is refused."""
    if value is None:
        return None
    if not value.is_finite() or abs(value) >= Decimal("1e10") or value != value.quantize(_CENT):
        raise ValueError(f"expected an area in m² with at most two decimals, got {value}")
    return value.quantize(_CENT)


def to_share(value: Decimal | None) -> Decimal | None:
    """A buyer's share in percent, two decimals, 0..100."""
    if value is None:
        return None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100) or value != value.quantize(_CENT):
        raise ValueError(f"expected a share in percent between 0 and 100 with two decimals, got {value}")
    return value.quantize(_CENT)
