"""Read one statement file into `StatementLine`s, in constant memory, whatever the bank's layout.

    reader = StatementReader(path, bank="icbc", account_no="4000021209200123456")
    for item in reader:                 # StatementLine or QuarantineItem, in file order
        ...
    reader.check_totals()               # TotalsMismatch when the rows do not add up to the totals line

The reader looks for a known layout's header among the first `HEADER_SCAN_ROWS` rows (everything
before it is the preamble, where it reads the account number and the period when they are given);
no header → `UnknownLayout`, before any line is yielded. After the header, a row is a transaction
line, a blank line, a totals line (read, checked, never yielded as a line), a trailer (a disclaimer,
skipped) or a quarantine item naming the file, the line and what is wrong with which column.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import date, time
from decimal import Decimal
from pathlib import Path

from connectors.banks.errors import AccountMismatch, MissingTotals, TotalsMismatch, UnknownLayout
from connectors.banks.records import CREDIT, DEBIT, QuarantineItem, StatementLine, StatementTotals
from connectors.banks.statements.cells import (
    PAD,
    BadCell,
    clean,
    header_name,
    is_masked,
    parse_amount,
    parse_currency,
    parse_date,
    parse_time,
    split_counterparty,
)
from connectors.banks.statements.layouts import FIELDS, LAYOUTS, Layout, Marked, Signed, Split
from connectors.banks.statements.tabular import RowSource, has_undecodable, open_rows

HEADER_SCAN_ROWS = 40
ENTITY_LINE = "statement_line"
ENTITY_FILE = "statement_file"
SOURCE = "bank_statement"
_ZERO = Decimal(0)
_ACCOUNT_RE = re.compile(r"(?:卡号|账号|帐号)[:：]?([0-9A-Za-z*]{4,})")
_DATE_TEXT = r"(\d{4}-\d{2}-\d{2}|\d{8})"
_PERIOD_RE = re.compile(_DATE_TEXT + r"\D{1,8}?" + _DATE_TEXT)


def _day(text: str) -> date:
    return parse_date(text)[0]


class _Columns:
    """A layout's fields resolved to column indexes of one header row."""

    def __init__(self, layout: Layout, header: Sequence[str]) -> None:
        names = [header_name(cell) for cell in header]
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            index.setdefault(name, position)
        self.width = len(names)

        def resolve(candidates: tuple[str, ...]) -> tuple[int, ...]:
            return tuple(index[header_name(name)] for name in candidates if header_name(name) in index)

        self.fields = {name: resolve(layout.fields.get(name, ())) for name in FIELDS}
        amount = layout.amount
        if isinstance(amount, Signed):
            self.amount = resolve(amount.column)
        elif isinstance(amount, Split):
            self.credit, self.debit = resolve(amount.credit), resolve(amount.debit)
        else:
            self.amount, self.mark = resolve(amount.column), resolve(amount.mark)
        self.totals: dict[str, tuple[int, ...]] = {}
        if layout.totals is not None:
            self.totals = {name: resolve(cols) for name, cols in layout.totals.aligned.items()}

    def get(self, cells: Sequence[str], field: str) -> str | None:
        return first(cells, self.fields[field])


def first(cells: Sequence[str], indexes: tuple[int, ...]) -> str | None:
    """The first non-empty, non-placeholder cell among `indexes` (cells beyond the row are empty)."""
    for position in indexes:
        if position < len(cells):
            value = clean(cells[position])
            if value is not None:
                return value
    return None


def match_layout(header: Sequence[str], layouts: Sequence[Layout]) -> Layout | None:
    """The layout whose required header names are all in the row (the most specific when several)."""
    names = {header_name(cell) for cell in header}
    best: Layout | None = None
    for layout in layouts:
        required = {header_name(name) for name in layout.required}
        fits = required <= names and not any(header_name(n) in names for n in layout.forbidden)
        if fits and (best is None or len(required) > len(best.required)):
            best = layout
    return best


class StatementReader:
    """Iterates the lines of one statement file; see the module docstring.

    `bank`: the code of the bank the file should come from (only its layouts are tried; a file that
    matches another bank's layout is an `UnknownLayout` that says which). `account_no`: the account
    the file belongs to, for a file that states none or only a masked number it fits; the account a
    file states (in its preamble or its rows) always wins, and one that differs from `account_no` is
    an `AccountMismatch` naming both. `file_name`: the name to report (default: the path's name).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        bank: str | None = None,
        account_no: str | None = None,
        file_name: str | None = None,
        layouts: Sequence[Layout] = LAYOUTS,
    ) -> None:
        self.path = Path(path)
        self.file_name = file_name or self.path.name
        self.bank = bank
        self.given_account = account_no
        self.layouts = tuple(layouts)
        self.layout: Layout | None = None
        self.header_line: int | None = None
        self.preamble: list[str] = []
        self.account_no: str | None = None  # the file's own, else the given one (after the header)
        self.stated_period: tuple[date, date] | None = None
        self.encoding: str | None = None
        self.kind: str | None = None
        self.totals: StatementTotals | None = None
        self._totals_seen: set[str] = set()  # the totals fields whose cell or text the file has
        self.lines = 0
        self.quarantined = 0
        self.blank_lines = 0
        self.trailer_lines = 0
        self.credit_total = _ZERO
        self.debit_total = _ZERO
        self.credit_count = 0
        self.debit_count = 0
        self.first_on: date | None = None
        self.last_on: date | None = None
        self.finished = False
        self._occurrences: dict[str, int] = {}
        self._occurrence_day: date | None = None

    # -- what the file says about itself ---------------------------------------------------------------

    @property
    def period(self) -> tuple[date, date] | None:
        """The period the file covers: as its preamble states it, else the dates of its lines."""
        if self.stated_period is not None:
            return self.stated_period
        if self.first_on is None or self.last_on is None:
            return None
        return self.first_on, self.last_on

    def check_totals(self) -> None:
        """Raise `TotalsMismatch` (naming the file and each difference) when the rows read do not add
        up to the totals line; `MissingTotals` when a layout that always ends with one (`totals_always`)
        has none (a file cut short). Call after iterating."""
        if not self.finished:
            raise RuntimeError("check_totals() needs the whole file: iterate the reader first")
        totals = self.totals
        layout = self.layout
        if layout is not None and layout.totals is not None and layout.totals_always:
            declared = set(layout.totals.aligned) | set(layout.totals.pairs)
            missing = sorted(declared - self._totals_seen) if totals is not None else []
            if totals is None or missing:
                what = "got none" if totals is None else f"got one without {', '.join(missing)}"
                raise MissingTotals(
                    f"{self.file_name}: expected the totals line that ends every {layout.description} file, "
                    f"{what} after {self.lines} lines ({self.quarantined} quarantined): the file is cut short "
                    "(an interrupted download or export); ask the bank for it again",
                    file_name=self.file_name,
                )
        if totals is None:
            return
        pairs = {
            "credit": (self.credit_total, totals.credit_total),
            "debit": (self.debit_total, totals.debit_total),
            "credit_count": (Decimal(self.credit_count), _opt_decimal(totals.credit_count)),
            "debit_count": (Decimal(self.debit_count), _opt_decimal(totals.debit_count)),
        }
        differences = {name: (rows, stated) for name, (rows, stated) in pairs.items() if stated is not None}
        differences = {name: pair for name, pair in differences.items() if pair[0] != pair[1]}
        if not differences:
            return
        parts = []
        for name, (rows, stated) in differences.items():
            label = name.replace("_", " ") + ("s" if not name.endswith("count") else "")
            parts.append(
                f"{label}: rows {_money(rows, name)}, totals line {_money(stated, name)}, "
                f"difference {_money(rows - stated, name, signed=True)}"
            )
        note = f"; {self.quarantined} rows were quarantined" if self.quarantined else ""
        raise TotalsMismatch(
            f"{self.file_name}: expected the rows to add up to the totals line (line {totals.line_no}), "
            f"got {'; '.join(parts)}{note}. The file is incomplete or altered: ask the bank for it again",
            file_name=self.file_name,
            totals_line=totals.line_no,
            differences=differences,
        )

    # -- reading ----------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[StatementLine | QuarantineItem]:
        source = open_rows(self.path, file_name=self.file_name)
        self.encoding, self.kind = source.encoding, source.kind
        try:
            yield from self._read(source)
        finally:
            source.close()

    def _read(self, source: RowSource) -> Iterator[StatementLine | QuarantineItem]:
        rows = iter(source)
        layout, columns = self._find_header(rows, source)
        self.layout = layout
        for line_no, cells in rows:
            if not any(cell.strip(PAD) for cell in cells):
                self.blank_lines += 1
                continue
            if has_undecodable(cells):
                yield self._quarantine(line_no, cells, f"bytes that are not valid {source.encoding}")
                continue
            lead = next((c for c in (clean(cell) for cell in cells) if c is not None), "")
            if not lead[:1].isdigit():
                if layout.totals is not None and layout.totals.is_totals(lead):
                    try:
                        self._read_totals(line_no, cells, columns, layout)
                    except BadCell as exc:
                        yield self._quarantine(line_no, cells, str(exc))
                    continue
                if any(re.search(pattern, lead) for pattern in layout.trailers):
                    self.trailer_lines += 1
                    continue
            try:
                line = self._line(line_no, cells, layout, columns)
            except BadCell as exc:
                yield self._quarantine(line_no, cells, str(exc))
                continue
            self._count(line)
            yield line
        self.finished = True

    def _key(self, booked_on: date, fingerprint: str) -> str:
        """The line's key: its fingerprint and how many equal lines came before it on that day.

        Equal lines (two identical fees on one day) get keys #0, #1 in every file that carries them,
        so an overlapping file maps them onto the same keys. Only the current day's fingerprints are
        remembered: files list a day's lines together, and memory stays flat.
        """
        if booked_on != self._occurrence_day:
            self._occurrences.clear()
            self._occurrence_day = booked_on
        seen = self._occurrences.get(fingerprint, 0)
        self._occurrences[fingerprint] = seen + 1
        return hashlib.blake2b(f"{fingerprint}#{seen}".encode(), digest_size=16).hexdigest()

    def _find_header(self, rows: Iterator[tuple[int, list[str]]], source: RowSource) -> tuple[Layout, _Columns]:
        candidates = [layout for layout in self.layouts if self.bank is None or layout.bank == self.bank]
        scanned = 0
        for line_no, cells in rows:
            scanned += 1
            layout = match_layout(cells, candidates)
            if layout is not None:
                self.header_line = line_no
                self._read_preamble(source.sheet_name)
                if self.account_no is None:
                    self.account_no = self.given_account
                return layout, _Columns(layout, cells)
            other = match_layout(cells, self.layouts) if self.bank is not None else None
            if other is not None:
                raise UnknownLayout(
                    f"{self.file_name}: expected a statement of bank {self.bank!r}, got the header of "
                    f"{other.description} ({other.bank}) on line {line_no}; import it with --bank {other.bank}",
                    file_name=self.file_name,
                )
            text = "".join(header_name(cell) for cell in cells)
            if text:
                self.preamble.append(text)
            if scanned >= HEADER_SCAN_ROWS:
                break
        known = ", ".join(layout.name for layout in candidates)
        raise UnknownLayout(
            f"{self.file_name}: expected the header row of a known statement layout ({known}) within the "
            f"first {HEADER_SCAN_ROWS} lines, found none in {scanned} lines; the file is of a layout the "
            "parser does not know (add it to connectors/banks/statements/layouts.py) or not a statement",
            file_name=self.file_name,
        )

    def _own_account(self, stated: str | None, where: str) -> str | None:
        """The account of the file: `stated` (what the file says), checked against the given one."""
        given = self.given_account
        if stated is None or given is None:
            return stated or given
        if not same_account(given, stated):
            raise AccountMismatch(
                f"{self.file_name}: the file states account {stated} ({where}), but account {given} was given "
                "(--account or the bank's listing); a file's own account wins: import it without --account, "
                "or with the account it states",
                file_name=self.file_name,
            )
        return given if "*" in stated else stated  # a masked number the given one fits: the full one

    def _read_preamble(self, sheet_name: str | None) -> None:
        for text in self.preamble:
            if self.account_no is None:
                found = _ACCOUNT_RE.search(text)
                if found:
                    self.account_no = self._own_account(found[1], "in its heading")
            if self.stated_period is None and "日期" in text:
                self.stated_period = _period(text)
        if self.stated_period is None and sheet_name:
            self.stated_period = _period(sheet_name)

    def _read_totals(self, line_no: int, cells: list[str], columns: _Columns, layout: Layout) -> None:
        assert layout.totals is not None
        values: dict[str, Decimal | int | None] = {}
        for name, indexes in columns.totals.items():
            if any(position < len(cells) for position in indexes):
                self._totals_seen.add(name)
            text = first(cells, indexes)
            if text is not None:
                values[name] = _parse_total(text, self.file_name, line_no)
        joined = " ".join(c for c in (clean(cell) for cell in cells) if c is not None)
        for name, pattern in layout.totals.pairs.items():
            found = re.search(pattern, joined)
            if found:
                self._totals_seen.add(name)
                text = found[1]
                values[name] = int(text) if name.endswith("count") else _parse_total(text, self.file_name, line_no)
        previous = self.totals
        merged = {
            "credit_total": values.get("credit"),
            "debit_total": values.get("debit"),
            "credit_count": values.get("credit_count"),
            "debit_count": values.get("debit_count"),
        }
        if previous is not None:
            for name in merged:
                if merged[name] is None:
                    merged[name] = getattr(previous, name)
        self.totals = StatementTotals(line_no=previous.line_no if previous else line_no, **merged)  # type: ignore[arg-type]

    def _line(self, line_no: int, cells: list[str], layout: Layout, columns: _Columns) -> StatementLine:
        get = columns.get
        booked_text = get(cells, "booked_on")
        if booked_text is None:
            raise BadCell("booked_on: expected a date, got nothing")
        try:
            booked_on, booked_time = parse_date(booked_text)
        except BadCell as exc:
            raise BadCell(f"booked_on: {exc}") from None
        direction, amount = self._amount(cells, layout, columns)
        time_text = get(cells, "booked_time")
        if time_text is not None:
            booked_time = _time(time_text)
        value_text = get(cells, "value_on")
        value_on = _field(_day, value_text, "value_on") if value_text is not None else None
        balance_text = get(cells, "balance")
        balance = None
        if balance_text is not None and not is_masked(balance_text):
            balance = _field(parse_amount, balance_text, "balance")
        currency_text = get(cells, "currency")
        currency = _field(parse_currency, currency_text, "currency") if currency_text else layout.currency
        name, account = get(cells, "counterparty_name"), get(cells, "counterparty_account")
        if layout.combined_counterparty and name is not None and account is None:
            name, account = split_counterparty(name)
        row_account = get(cells, "account_no")
        if row_account is not None and row_account != self.account_no:
            own_account = self._own_account(row_account, f"on line {line_no}")
        else:
            own_account = self.account_no
        serial = get(cells, "serial")
        summary, memo = get(cells, "summary"), get(cells, "memo")
        if layout.serial_is_unique and serial:
            fingerprint = f"{layout.bank}|{own_account}|serial|{serial}"
        else:
            fingerprint = "|".join(
                str(part)
                for part in (
                    layout.bank,
                    own_account,
                    booked_on,
                    booked_time,
                    direction,
                    amount,
                    balance,
                    name,
                    account,
                    summary,
                    memo,
                    serial,
                )
            )
        return StatementLine(
            bank=layout.bank,
            layout=layout.name,
            account_no=own_account,
            file_name=self.file_name,
            line_no=line_no,
            booked_on=booked_on,
            value_on=value_on,
            booked_time=booked_time,
            direction=direction,
            amount=amount,
            currency=currency,
            balance=balance,
            counterparty_name=name,
            counterparty_account=account,
            counterparty_bank=get(cells, "counterparty_bank"),
            summary=summary,
            memo=memo,
            serial=serial,
            channel=get(cells, "channel"),
            line_key=self._key(booked_on, fingerprint),
            raw=tuple(cells),
        )

    @staticmethod
    def _amount(cells: list[str], layout: Layout, columns: _Columns) -> tuple[str, Decimal]:
        rule = layout.amount
        if isinstance(rule, Signed):
            text = first(cells, columns.amount)
            if text is None:
                raise BadCell("amount: expected an amount, got nothing")
            value = _field(parse_amount, text, "amount")
            return (DEBIT, -value) if value < 0 or text.startswith("-") else (CREDIT, value)
        if isinstance(rule, Split):
            credit_text, debit_text = first(cells, columns.credit), first(cells, columns.debit)
            credit = _field(parse_amount, credit_text, "credit amount") if credit_text is not None else None
            debit = _field(parse_amount, debit_text, "debit amount") if debit_text is not None else None
            if credit and debit:
                raise BadCell(f"amount: expected a credit or a debit, got both ({credit_text} and {debit_text})")
            if credit:
                return (CREDIT, credit) if credit > 0 else (DEBIT, -credit)
            if debit:
                return (DEBIT, debit) if debit > 0 else (CREDIT, -debit)
            if credit is None and debit is None:
                raise BadCell("amount: expected a credit or a debit amount, got neither")
            return (CREDIT, _ZERO) if credit is not None else (DEBIT, _ZERO)
        assert isinstance(rule, Marked)
        text, mark = first(cells, columns.amount), first(cells, columns.mark)
        if text is None:
            raise BadCell("amount: expected an amount, got nothing")
        value = _field(parse_amount, text, "amount")
        marker = (mark or "").upper()
        if any(m in marker for m in rule.credit_marks):
            direction = CREDIT
        elif any(m in marker for m in rule.debit_marks):
            direction = DEBIT
        else:
            raise BadCell(f"direction: expected 借 or 贷, got {mark!r}")
        if value < 0:
            return (DEBIT if direction == CREDIT else CREDIT), -value
        return direction, value

    def _count(self, line: StatementLine) -> None:
        self.lines += 1
        if line.direction == CREDIT:
            self.credit_total += line.amount
            self.credit_count += 1
        else:
            self.debit_total += line.amount
            self.debit_count += 1
        if self.first_on is None or line.booked_on < self.first_on:
            self.first_on = line.booked_on
        if self.last_on is None or line.booked_on > self.last_on:
            self.last_on = line.booked_on

    def _quarantine(self, line_no: int, cells: list[str], reason: str) -> QuarantineItem:
        self.quarantined += 1
        text = ",".join(cells).encode("utf-8", "backslashreplace").decode("utf-8")
        return QuarantineItem(
            source=SOURCE,
            entity=ENTITY_LINE,
            key=None,
            reason=f"{self.file_name} line {line_no}: {reason}",
            payload=text,
            file_name=self.file_name,
            line_no=line_no,
        )


def same_account(given: str, stated: str) -> bool:
    """Whether account `given` is the account a file states (`stated` may be masked: `6217****3333`)."""
    given, stated = _plain(given), _plain(stated)
    if "*" not in stated:
        return given == stated
    head, tail = stated.split("*", 1)[0], stated.rsplit("*", 1)[1]
    return len(given) >= len(head) + len(tail) and given.startswith(head) and given.endswith(tail)


def _plain(account: str) -> str:
    return "".join(char for char in account if char.isalnum() or char == "*").upper()


def file_quarantine(file_name: str, reason: str, payload: str | None = None) -> QuarantineItem:
    """A quarantine item for a whole file (unknown layout, totals mismatch, unreadable container)."""
    return QuarantineItem(
        source=SOURCE,
        entity=ENTITY_FILE,
        key=file_name,
        reason=reason,
        payload=payload,
        file_name=file_name,
        line_no=None,
    )


def _field(parse, text: str, name: str):
    try:
        return parse(text)
    except BadCell as exc:
        raise BadCell(f"{name}: {exc}") from None


def _time(text: str) -> time | None:
    try:
        return parse_time(text)
    except BadCell:
        return _field(parse_date, text, "booked_time")[1]


def _period(text: str) -> tuple[date, date] | None:
    found = _PERIOD_RE.search(text)
    if not found:
        return None
    try:
        start, end = _day(found[1]), _day(found[2])
    except BadCell:
        return None
    return (start, end) if start <= end else None


def _parse_total(text: str, file_name: str, line_no: int) -> Decimal:
    try:
        return parse_amount(text)
    except BadCell as exc:
        raise BadCell(f"totals line: {exc}") from None


def _opt_decimal(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _money(value: Decimal, name: str, *, signed: bool = False) -> str:
    if name.endswith("count"):
        return f"{int(value):+d}" if signed else f"{int(value):d}"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"
