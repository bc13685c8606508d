from __future__ import annotations

import re

import pytest

from estatehub.trading_network.load import CORE_MODELS
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.sqlfiles import SQL_DIR, SqlModelError

MART_MODELS = ("mart/contracts_in_state_on", "mart/filings_overdue", "mart/contract_state_counts")
# the models of the trading-network build and of estatehub.warehouse.queries (other sources test theirs)
MODELS = sorted((*CORE_MODELS, *MART_MODELS))
KEYWORDS = r"\b(SELECT|FROM|WHERE|INSERT|INTO|UPDATE|DELETE|WITH|JOIN|ON|CONFLICT|GROUP|ORDER|AS|AND|OR|NULL)\b"


def test_every_model_the_code_names_exists_as_a_file():
    on_disk = {str(path.relative_to(SQL_DIR).with_suffix("")) for path in SQL_DIR.glob("*/*.sql")}
    assert set(MODELS) <= on_disk


@pytest.mark.parametrize("model", MODELS)
def test_each_model_is_one_lowercase_statement_with_ctes(model):
    sql = sqlfiles.sql_text(model)  # raises on a second statement
    code = re.sub(r"'(?:[^']|'')*'", "''", sql)
    assert not re.search(KEYWORDS, code), "keywords are lowercase"
    assert code.lstrip().startswith("with "), "import CTEs first"
    ctes = set(re.findall(r"(\w+) as \(", code))
    for match in re.finditer(r"\(\s*select\b", code):
        before = code[: match.start()].rstrip()
        if before.endswith(" as"):
            continue  # a CTE
        # the one other form: `in (select <column> from <cte>)`
        subquery = re.match(r"\(\s*select \w+ from (\w+)\)", code[match.start() :])
        assert before.endswith(" in") and subquery and subquery.group(1) in ctes, "CTEs, not nested subqueries"


@pytest.mark.parametrize("model", [m for m in MODELS if m.startswith("core/")])
def test_core_models_select_their_rows_by_batch_id(model):
    assert sqlfiles.parameters(model) == ["batch_id"]


def test_parameters_and_columns_are_typed_by_their_names():
    assert type(sqlfiles.type_for("cutoff_at")).__name__ == "UtcDateTime"
    assert type(sqlfiles.type_for("due_on")).__name__ == "Date"
    assert type(sqlfiles.type_for("amount_fen")).__name__ == "BigInteger"
    assert type(sqlfiles.type_for("is_primary")).__name__ == "Boolean"
    assert type(sqlfiles.type_for("contract_no")).__name__ == "String"
    assert type(sqlfiles.type_for("refund_days")).__name__ == "Integer"


def test_a_missing_parameter_or_model_is_a_clear_error():
    with pytest.raises(SqlModelError, match="no such file"):
        sqlfiles.sql_text("core/nothing_here")
    with pytest.raises(SqlModelError, match="needs the parameters"):
        sqlfiles.execute(None, "core/core_contract", {})
