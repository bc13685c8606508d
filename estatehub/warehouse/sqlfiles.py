"""The SQL models of `sql/`: read once, bound with typed parameters.

A model is one statement in one file, named by layer and what it builds: `sql/core/core_contract.sql`
is the model `core/core_contract`. Parameters (`:batch_id`, `:cutoff_at`, ...) and result columns
are typed by the repository's naming rules, so a timestamp goes in and comes out as an aware UTC
`datetime` and a date as a `date` on SQLite and PostgreSQL alike:

    *_at → UtcDateTime     *_on → Date        *_fen → BigInteger (fen)    *_area → Numeric(12, 2)
    is_* / has_* → Boolean  seq, floor, *_count, days_*, *_days → Integer   share → Numeric(5, 2)
    anything else → String
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, CursorResult, Date, Integer, String, bindparam, column, text
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

from estatehub.settings import SQL_DIR
from estatehub.warehouse.types import Area, Share, UtcDateTime

# the bind-parameter syntax of sqlalchemy.text(): `:name`, not `::cast`
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


class SqlModelError(LookupError):
    """A SQL model that does not exist, or is not one statement."""


def type_for(name: str) -> TypeEngine[Any]:
    """The column or parameter type that the naming rules give `name`."""
    if name.endswith("_at"):
        return UtcDateTime()
    if name.endswith("_on"):
        return Date()
    if name.endswith("_fen"):
        return BigInteger()
    if name.endswith("_area"):
        return Area
    if name.startswith(("is_", "has_")):
        return Boolean()
    if name in {"seq", "floor"} or name.endswith(("_count", "_days")) or name.startswith("days_"):
        return Integer()
    if name == "share":
        return Share
    return String()


def model_path(name: str) -> Path:
    return SQL_DIR / f"{name}.sql"


@functools.cache
def sql_text(name: str) -> str:
    """The statement of the model `name` (`layer/model`) without its comment lines, read once per process."""
    path = model_path(name)
    try:
        sql = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SqlModelError(f"expected the SQL model {name!r} at {path}, found no such file") from exc
    # whole-line comments document the model; they go, so that a `:name` in them is no parameter
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip().rstrip(";")
    if ";" in _strip_comments_and_strings(body):
        raise SqlModelError(f"expected one statement in {path}, found several (a ';' inside)")
    return body


def parameters(name: str) -> list[str]:
    """The names of the bind parameters of a model, in order of first use."""
    seen: dict[str, None] = {}
    for match in _BIND.finditer(_strip_comments_and_strings(sql_text(name))):
        seen.setdefault(match.group(1))
    return list(seen)


@functools.cache
def statement(name: str, columns: tuple[str, ...] = ()) -> TextClause:
    """The model as a `text()` clause with typed parameters (and typed result `columns`, if given)."""
    clause = text(sql_text(name)).bindparams(*(bindparam(p, type_=type_for(p)) for p in parameters(name)))
    if columns:
        return clause.columns(*(column(c, type_for(c)) for c in columns))
    return clause


def execute(
    conn: Connection, name: str, params: Mapping[str, Any] | None = None, *, columns: Iterable[str] = ()
) -> CursorResult[Any]:
    """Run the model `name` on `conn` with `params` (every parameter of the model must be given)."""
    params = dict(params or {})
    missing = [p for p in parameters(name) if p not in params]
    if missing:
        raise SqlModelError(f"the SQL model {name!r} needs the parameters {missing}, got {sorted(params)}")
    return conn.execute(statement(name, tuple(columns)), params)


def models(layer: str) -> list[str]:
    """Every model of a layer (`core`, `mart`, ...), sorted by name."""
    return sorted(f"{layer}/{path.stem}" for path in (SQL_DIR / layer).glob("*.sql"))


def _strip_comments_and_strings(sql: str) -> str:
    sql = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)
