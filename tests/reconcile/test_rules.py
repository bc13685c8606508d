"""Finance's rules: read from YAML or CSV, refused with a message that names the rule and the fault, applied last."""

from __future__ import annotations

from pathlib import Path

import pytest

from estatehub.reconcile import Rule, RuleFileError, RuleSet, load_rules, match, parse_csv_rules, parse_yaml_rules
from tests.reconcile.frames import AS_OF, reasons, side

YAML = """
rules:
  - name: bank-fees
    side: bank
    when: {text_contains: [手续费, Fee], amount_max_fen: 20000}
    action: ignore
    category: bank_fee
  - name: transfers-in
    side: bank
    when: {text_regex: "^跨行转入"}
    action: classify
    reason: needs_payer_lookup
  - name: acme-pays-for-zhang
    side: bank
    when: {text_contains: Acme Trading}
    action: alias
    alias: 张三
"""

CSV = """name,side,action,text_contains,text_regex,reference_regex,amount_min_fen,amount_max_fen,category,reason,alias
bank-fees,bank,ignore,手续费|Fee,,,,20000,bank_fee,,
transfers-in,bank,classify,,^跨行转入,,,,,needs_payer_lookup,
acme-pays-for-zhang,bank,alias,Acme Trading,,,,,,,张三
"""


def test_yaml_and_csv_give_the_same_rules(tmp_path: Path):
    (tmp_path / "rules.yaml").write_text(YAML, encoding="utf-8")
    (tmp_path / "rules.csv").write_text(CSV, encoding="utf-8")
    from_yaml, from_csv = load_rules(tmp_path / "rules.yaml"), load_rules(tmp_path / "rules.csv")
    assert from_yaml.rules == from_csv.rules
    assert from_yaml.rules[0] == Rule(
        name="bank-fees",
        side="bank",
        action="ignore",
        text_contains=("手续费", "Fee"),
        amount_max_fen=20000,
        category="bank_fee",
    )
    assert [r.action for r in from_yaml.rules] == ["ignore", "classify", "alias"]


def test_rules_act_on_what_the_tiers_left():
    rules = parse_yaml_rules(YAML)
    ledger = side(
        {"id": "L1", "amount": 5000_00, "on": 2, "text": "张三"},
        {"id": "L2", "amount": 15, "on": 2, "reference": "FEE-1"},
    )
    bank = side(
        {"id": "B1", "amount": 15, "on": 2, "text": "汇款手续费"},  # a fee nobody booked: ignored
        {"id": "B2", "amount": 15, "on": 2, "text": "手续费", "reference": "FEE-1"},  # booked: tier 1 first
        {"id": "B3", "amount": 30000_00, "on": 2, "text": "汇款手续费"},  # over the rule's amount: a break
        {"id": "B4", "amount": 700_00, "on": 3, "text": "跨行转入 某某"},  # classified
        {"id": "B5", "amount": 5000_00, "on": 4, "text": "Acme Trading Co"},  # alias of 张三
    )
    result = match(ledger, bank, as_of=AS_OF, rules=rules)
    by_pair = {(r.left_id, r.right_id): (r.tier, r.rule) for r in result.matches.itertuples()}
    assert by_pair == {("L2", "B2"): (1, None), ("L1", "B5"): (5, "acme-pays-for-zhang")}
    assert result.ignored[["id", "rule", "category"]].values.tolist() == [["B1", "bank-fees", "bank_fee"]]
    assert reasons(result) == {((), ("B3",)): "unmatched_bank", ((), ("B4",)): "needs_payer_lookup"}
    assert result.breaks.set_index("reason").loc["needs_payer_lookup", "rule"] == "transfers-in"


def test_alias_rule_still_needs_the_amount():
    rules = parse_yaml_rules(YAML)
    result = match(
        side({"id": "L1", "amount": 5000_00, "on": 2, "text": "张三"}),
        side({"id": "B5", "amount": 5001_00, "on": 2, "text": "Acme Trading Co"}),
        as_of=AS_OF,
        rules=rules,
    )
    assert result.matches.empty


def test_the_first_rule_that_holds_wins():
    rules = parse_yaml_rules(
        "rules:\n"
        " - {name: a, side: bank, when: {amount_max_fen: 100}, action: classify, reason: small}\n"
        " - {name: b, side: bank, when: {amount_min_fen: 50}, action: ignore, category: other}\n"
    )
    result = match(
        side(),
        side({"id": "B1", "amount": 80, "on": 1}, {"id": "B2", "amount": 800, "on": 1}),
        as_of=AS_OF,
        rules=rules,
    )
    assert reasons(result) == {((), ("B1",)): "small"}
    assert result.ignored["id"].tolist() == ["B2"]


BAD_YAML = [
    ("rules: [", "not valid YAML"),
    ("rule: []", "one key, 'rules'"),
    (
        "rules:\n - {name: x, side: bank, when: {amount_max_fen: 1}, action: ignor, category: c}",
        "rule 1 ('x'): 'action' 'ignor' is not one of ignore, classify, alias",
    ),
    ("rules:\n - {name: x, side: bank, when: {amount_max_fen: 1}, action: ignore}", "action 'ignore' needs 'category'"),
    ("rules:\n - {name: x, side: bank, action: ignore, category: c}", "no condition"),
    (
        "rules:\n - {name: x, side: bank, when: {text_regex: '('}, action: ignore, category: c}",
        "not a valid regular expression",
    ),
    (
        "rules:\n - {name: x, side: bank, when: {amount_max_fen: 1.5}, action: ignore, category: c}",
        "whole number of fen",
    ),
    (
        "rules:\n - {name: x, side: bank, when: {amount_max_fen: 1}, action: ignore, category: c, colour: red}",
        "unknown key(s) colour",
    ),
    (
        "rules:\n - {name: x, side: bank, when: {memo_has: a}, action: ignore, category: c}",
        "unknown condition(s) memo_has",
    ),
    (
        "rules:\n - {name: x, side: bank, when: {amount_max_fen: 1}, action: ignore, category: c, reason: r}",
        "'reason' does not belong to action 'ignore'",
    ),
    (
        "rules:\n - {name: x, side: bank, when: {amount_min_fen: 5, amount_max_fen: 1}, action: ignore, category: c}",
        "could never apply",
    ),
    ("rules:\n - {name: Bad Name, side: bank, when: {amount_max_fen: 1}, action: ignore, category: c}", "'name'"),
    (
        "rules:\n - {name: x, side: bank, when: {amount_max_fen: 1}, action: ignore, category: c}\n"
        " - {name: x, side: bank, when: {amount_max_fen: 2}, action: ignore, category: c}",
        "rule 2 ('x'): the name is already used by rule 1",
    ),
    (
        "rules:\n - {name: x, side: bank, when: {amount_max_fen: 1}, action: classify, reason: Not A Code}",
        "must be a code",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_YAML)
def test_a_bad_yaml_rules_file_says_which_rule_and_why(tmp_path: Path, text: str, message: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rules(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"rules file {path}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,side\nx,bank\n", "missing column(s) action"),
        ("name,side,action,colour\n", "unknown column(s) colour"),
        (
            "name,side,action,amount_max_fen,category\nfees,bank,ignore,12.50,bank_fee\n",
            "line 2 ('fees'): amount_max_fen '12.50' is not a whole number of fen",
        ),
        ("name,side,action,amount_max_fen,category\nfees,bank,ignore,1,bank_fee,extra\n", "more cells"),
    ],
)
def test_a_bad_csv_rules_file_says_which_line_and_why(text: str, message: str):
    with pytest.raises(RuleFileError, match="rules file rules.csv") as caught:
        parse_csv_rules(text, "rules.csv")
    assert message in str(caught.value)


def test_a_missing_or_unknown_rules_file_is_refused(tmp_path: Path):
    with pytest.raises(RuleFileError, match="no such file"):
        load_rules(tmp_path / "none.yaml")
    (tmp_path / "rules.txt").write_text("x", encoding="utf-8")
    with pytest.raises(RuleFileError, match="unknown file type '.txt'"):
        load_rules(tmp_path / "rules.txt")


def test_a_rule_for_a_side_the_reconciliation_lacks_is_refused():
    rules = parse_yaml_rules(
        "rules:\n - {name: x, side: bnak, when: {amount_max_fen: 1}, action: ignore, category: c}", "r.yaml"
    )
    with pytest.raises(
        RuleFileError,
        match=r"r.yaml, rule 1 \('x'\): side 'bnak' is not a side of this reconciliation; use one of ledger, bank",
    ):
        match(side(), side(), as_of=AS_OF, rules=rules)


def test_an_empty_rules_file_is_no_rules():
    assert parse_yaml_rules("", "empty.yaml") == RuleSet((), "empty.yaml")


def test_the_shipped_rules_file_loads_and_ignores_a_fee():
    rules = load_rules(Path(__file__).resolve().parents[2] / "estatehub" / "config" / "reconcile_rules.yaml")
    assert [r.name for r in rules.rules] == ["bank-fees", "interest", "cross-bank-transfers"]
    result = match(
        side(), side({"id": "B1", "amount": 1500, "on": 1, "text": "跨行汇款手续费"}), as_of=AS_OF, rules=rules
    )
    assert result.ignored["category"].tolist() == ["bank_fee"]
    assert result.breaks.empty
