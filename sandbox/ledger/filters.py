"""K/3 Cloud's `FilterString`, a small SQL-like language, parsed and turned into SQLite.

    FModifyDate >= '2026-03-01 00:00:00' and FModifyDate < '2026-03-02' and FEntity_FEntryID > 1200
    FBillNo in ('SKD00000001', 'SKD00000002') or (FREMARK like '%1502%' and not FCancelStatus = 'B')

Comparisons (`= <> != > >= < <=`), `like`, `in (…)`, `is [not] null`, `between … and …`, `and`, `or`,
`not`, parentheses; values are quoted text (`''` escapes a quote) or numbers. Field keys are looked up
in the form (`sandbox.ledger.forms`); an unknown one is an error, as in K/3. Date and time values are
rewritten to the store's `YYYY-MM-DDTHH:MM:SS` so that `'2026-03-01 10:00'` compares as meant. Money is
compared in yuan, as the client sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.ledger.forms import DATE, DATETIME, MONEY, Field, Form

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><>|!=|>=|<=|=|>|<)"
    r"|(?P<paren>[(),])|(?P<word>[A-Za-z_][\w.]*))"
)
_KEYWORDS = {"and", "or", "not", "in", "like", "is", "null", "between"}


class FilterError(ValueError):
    """A filter string that cannot be understood; the message says where."""


@dataclass(frozen=True, slots=True)
class Compare:
    field: Field
    op: str  # = <> > >= < <= like in isnull notnull between
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Bool:
    op: str  # and, or, not
    items: tuple[Any, ...] = field(default_factory=tuple)


Node = Compare | Bool


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"过滤条件无法解析: 第 {position + 1} 个字符附近 {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "word" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        found.append((kind, value))
        position = match.end()
    return found


class _Parser:
    def __init__(self, form: Form, tokens: list[tuple[str, str]]) -> None:
        self.form = form
        self.tokens = tokens
        self.i = 0

    def peek(self, kind: str, value: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        k, v = self.tokens[self.i]
        return k == kind and (value is None or v == value)

    def take(self, kind: str, value: str | None = None) -> str:
        if not self.peek(kind, value):
            got = self.tokens[self.i][1] if self.i < len(self.tokens) else "结尾"
            raise FilterError(f"过滤条件语法错误: 需要 {value or kind}，得到 {got!r}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.expr()
        if self.i != len(self.tokens):
            raise FilterError(f"过滤条件语法错误: 多余的 {self.tokens[self.i][1]!r}")
        return node

    def expr(self) -> Node:
        items = [self.term()]
        while self.peek("kw", "or"):
            self.take("kw", "or")
            items.append(self.term())
        return items[0] if len(items) == 1 else Bool("or", tuple(items))

    def term(self) -> Node:
        items = [self.factor()]
        while self.peek("kw", "and"):
            self.take("kw", "and")
            items.append(self.factor())
        return items[0] if len(items) == 1 else Bool("and", tuple(items))

    def factor(self) -> Node:
        if self.peek("kw", "not"):
            self.take("kw", "not")
            return Bool("not", (self.factor(),))
        if self.peek("paren", "("):
            self.take("paren", "(")
            node = self.expr()
            self.take("paren", ")")
            return node
        return self.comparison()

    def value(self, target: Field) -> Any:
        if self.peek("str"):
            raw = self.take("str")[1:-1].replace("''", "'")
        elif self.peek("num"):
            raw = self.take("num")
        else:
            got = self.tokens[self.i][1] if self.i < len(self.tokens) else "结尾"
            raise FilterError(f"过滤条件语法错误: 需要一个值，得到 {got!r}")
        return _coerce(target, raw)

    def comparison(self) -> Node:
        name = self.take("word")
        target = self.form.field(name)
        if target is None:
            raise FilterError(f"字段 {name} 不存在于表单 {self.form.form_id}")
        if self.peek("op"):
            op = self.take("op")
            return Compare(target, "<>" if op == "!=" else op, (self.value(target),))
        if self.peek("kw", "like"):
            self.take("kw", "like")
            return Compare(target, "like", (self.value(target),))
        if self.peek("kw", "not") and self.tokens[self.i + 1 : self.i + 2] == [("kw", "like")]:
            self.take("kw", "not")
            self.take("kw", "like")
            return Bool("not", (Compare(target, "like", (self.value(target),)),))
        if self.peek("kw", "in"):
            self.take("kw", "in")
            self.take("paren", "(")
            values = [self.value(target)]
            while self.peek("paren", ","):
                self.take("paren", ",")
                values.append(self.value(target))
            self.take("paren", ")")
            return Compare(target, "in", tuple(values))
        if self.peek("kw", "is"):
            self.take("kw", "is")
            negated = self.peek("kw", "not")
            if negated:
                self.take("kw", "not")
            self.take("kw", "null")
            return Compare(target, "notnull" if negated else "isnull", ())
        if self.peek("kw", "between"):
            self.take("kw", "between")
            low = self.value(target)
            self.take("kw", "and")
            return Compare(target, "between", (low, self.value(target)))
        raise FilterError(f"过滤条件语法错误: 字段 {name} 后需要比较运算符")


def _coerce(target: Field, raw: str) -> Any:
    if target.kind in (DATE, DATETIME):
        try:
            moment = datetime.fromisoformat(raw.strip().replace("/", "-"))
        except ValueError as exc:
            raise FilterError(f"字段 {target.key} 的值 {raw!r} 不是有效的日期") from exc
        if moment.utcoffset() is not None:
            moment = moment.replace(tzinfo=None) - moment.utcoffset() + _BEIJING  # type: ignore[operator]
        return moment.replace(microsecond=0).isoformat() if target.kind == DATETIME else moment.date().isoformat()
    if target.kind == MONEY:
        try:
            return round(float(raw) * 100)
        except ValueError as exc:
            raise FilterError(f"字段 {target.key} 的值 {raw!r} 不是数字") from exc
    return raw


_BEIJING = datetime(2000, 1, 1, 8) - datetime(2000, 1, 1)


def parse_filter(form: Form, text: str | None) -> Node | None:
    """The filter's tree, or None for an empty filter; `FilterError` when it cannot be read."""
    return _Parser(form, _tokens(text or "")).parse()


def to_sql(node: Node | None, params: list[Any]) -> str:
    """SQL text for the tree; its values are appended to `params` (positional `?`)."""
    if node is None:
        return "1"
    if isinstance(node, Bool):
        if node.op == "not":
            return f"not ({to_sql(node.items[0], params)})"
        return "(" + f" {node.op} ".join(to_sql(item, params) for item in node.items) + ")"
    column = node.field.sql
    if node.op in ("isnull", "notnull"):
        return f"({column}) is {'not ' if node.op == 'notnull' else ''}null"
    if node.op == "in":
        params.extend(node.values)
        return f"({column}) in ({','.join('?' * len(node.values))})"
    if node.op == "between":
        params.extend(node.values)
        return f"({column}) between ? and ?"
    params.append(node.values[0])
    return f"({column}) {node.op} ?"


def keyset_bound(node: Node | None, key: str) -> tuple[Node | None, Compare] | None:
    """When the filter is `… and <key> > value` (keyset paging), the rest of it and that bound."""
    if isinstance(node, Compare) and node.field.key.lower() == key.lower() and node.op in (">", ">="):
        return None, node
    if isinstance(node, Bool) and node.op == "and":
        for index, item in enumerate(node.items):
            if isinstance(item, Compare) and item.field.key.lower() == key.lower() and item.op in (">", ">="):
                rest = node.items[:index] + node.items[index + 1 :]
                return (rest[0] if len(rest) == 1 else Bool("and", rest)), item
    return None
