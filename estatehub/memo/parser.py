"""Read a ledger memo (摘要): which unit(s) it names — building, 单元, room — and what kind of payment.

Finance writes the room only in the memo, in whatever form the clerk likes:

    收3-2-1502房款            3#2单元1502 张三 首付         按揭款 建行 3栋2单元1502
    三栋二单元1502室          A座15F02                      3栋1502、1503 定金

`parse_memo` first normalises the text (`estatehub.memo.normalize`), then blanks out what only looks
like a unit (amounts, dates, voucher and bill numbers, account tails, phones, fractions), then applies
its rules from the most to the least explicit; a span taken by one rule is not read again by a later
one. Every unit found is a `UnitRef` with the rule that matched and a confidence: how often that rule
reads the unit the clerk wrote (measured by `bench.memo_score` against the sandbox's ground truth).
A room must look like one: a floor of 1–60 and a position of 01–12 (`2026` is a year, not a room).

Parts the memo leaves out stay None (`A座15F02` has no 单元); `estatehub.memo.resolve` fills them in
from the project's rooms when that is unambiguous.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from estatehub.memo.normalize import normalize

# fees the developer collects for others (代收代付: the tax bureau, the housing fund centre, the registration
# centre) — other payables, never sale proceeds; 代收款 where the ledger says only that (decision 0028)
FEE_KINDS = ("契税", "维修基金", "登记费", "代收款")
KINDS = ("诚意金", "定金", "首付", "分期", "按揭", "公积金", "一次性", "补差", "退款", *FEE_KINDS[:3])


@dataclass(frozen=True, slots=True)
class UnitRef:
    """One unit named in a memo. `building` is digits (`"3"`) or a letter (`"A"`); `room` has no
    leading zero (`"802"`); `span` is where it was read, in the normalised text."""

    building: str | None
    unit: str | None
    room: str
    confidence: float
    rule: str
    span: tuple[int, int]

    @property
    def key(self) -> tuple[str | None, str | None, str]:
        return self.building, self.unit, self.room

    def __reduce__(self) -> tuple[type[UnitRef], tuple[Any, ...]]:
        # pickled as its fields, built again by its constructor: a frozen dataclass's own way (`__setstate__`
        # over `fields()`) costs several times that, and the linker receives its readings pickled (decision 0045)
        return UnitRef, (self.building, self.unit, self.room, self.confidence, self.rule, self.span)


@dataclass(frozen=True, slots=True)
class MemoReading:
    """What a memo says: the units it names (in the order written) and the payment kinds.

    `confidence` and `rule` are those of the least sure unit (0.0 and None when it names none).
    """

    text: str
    normalized: str
    units: tuple[UnitRef, ...]
    kinds: tuple[str, ...]

    def __reduce__(self) -> tuple[type[MemoReading], tuple[Any, ...]]:
        return MemoReading, (self.text, self.normalized, self.units, self.kinds)  # as `UnitRef.__reduce__`

    @property
    def kind(self) -> str | None:
        return self.kinds[0] if self.kinds else None

    @property
    def confidence(self) -> float:
        return min((ref.confidence for ref in self.units), default=0.0)

    @property
    def rule(self) -> str | None:
        if not self.units:
            return None
        return min(self.units, key=lambda ref: ref.confidence).rule


# -- what only looks like a unit ----------------------------------------------------------------------

_NOT_UNITS = re.compile(
    "|".join(
        (
            r"[¥￥$]\s*[\d,]+(?:\.\d+)?",  # ¥50,000.00
            r"\d{1,3}(?:,\d{3})+(?:\.\d+)?",  # 1,153,120.00
            r"\d+(?:\.\d+)?\s*(?:万元|万|元|块|W)",  # 30万, 50000元
            r"\d+\.\d+",  # 1153120.00, 3.5
            r"\d{2,4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?!\d)",  # 2026-03-12, 2026年3月12日
            r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]",  # 3月12日
            r"\d{2,4}\s*年(?:度)?|\d{1,2}\s*月份?",  # 2026年, 3月
            r"\d{1,2}:\d{2}(?::\d{2})?",  # 14:03
            r"[A-Z]{2,}[A-Z0-9]*\d{3,}",  # SKD00001234, YS2026P01000123, KH000123
            r"记\s*-?\s*\d+\s*号?|凭证\s*\d+号?",  # 记-15号
            r"(?:尾号|账号|卡号|帐号|户号|流水号?|单号|编号|合同号|回单号?)\s*:?\s*[A-Z\d-]+",
            r"(?<!\d)1[3-9]\d{9}(?!\d)",  # mobile phone
            r"\d+\s*%",
            r"第\s*\d+\s*(?:笔|次|期|批|张)",  # 第2笔, 第3期
            r"\(\s*\d+\s*/\s*\d+\s*\)|(?<![\d/])\d\s*/\s*\d(?![\d/])",  # (1/2), 1/3
            r"(?<!\d)\d{1,2}\s*(?:期(?!款)|套|笔|天)",  # 二期 (phase), 2套, 3笔
            r"\d{5,}",  # long digit runs: amounts without 元, account numbers
        )
    )
)


def _mask(text: str) -> str:
    """`text` with every non-unit number replaced by spaces (same length, so spans stay valid)."""
    return _NOT_UNITS.sub(lambda m: " " * (m.end() - m.start()), text)


# -- the rules --------------------------------------------------------------------------------------

_B = r"(?P<b>(?<!\d)\d{1,2}|(?<![A-Z])[A-Z])"  # a name may be glued before: TAN WEI MING3-1-1702
_BMARK = r"(?:#\s*楼|号楼|栋|座|#|号|楼)"
_UMARK = r"(?:单元|单|U)"
_ROOM = r"(?P<r>\d{3,4})(?!\d)(?:\s*(?:室|房|号|户))?"

# (name, pattern, confidence): most explicit first. Confidences are the measured share of correct
# reads of each rule on the sandbox's ground truth, rounded down (see bench.memo_score).
_RULES: tuple[tuple[str, re.Pattern[str], float], ...] = tuple(
    (name, re.compile(pattern), confidence)
    for name, pattern, confidence in (
        ("building-unit-room", rf"{_B}\s*{_BMARK}\s*-?\s*(?P<u>\d{{1,2}})\s*{_UMARK}\s*-?\s*{_ROOM}", 0.99),
        ("building-dash-unit-room", rf"{_B}\s*{_BMARK}\s*(?P<u>\d{{1,2}})\s*-\s*{_ROOM}", 0.98),
        ("dashed", rf"(?<![./:-]){_B}\s*-\s*(?P<u>\d{{1,2}})\s*-\s*{_ROOM}(?!\s*-\s*\d)", 0.97),
        ("slashed", rf"(?<![\d/])(?P<b>\d{{1,2}})\s*/\s*(?P<u>\d{{1,2}})\s*/\s*{_ROOM}(?!\s*/)", 0.93),
        (
            "letter-floor",
            r"(?<![A-Z])(?P<b>[A-Z])\s*(?:座|栋|#)?\s*(?P<f>\d{1,2})\s*[F层楼]\s*(?P<p>\d{1,2})(?![\d])",
            0.95,
        ),
        (
            "building-unit-floor-position",
            rf"{_B}\s*{_BMARK}\s*-?\s*(?P<u>\d{{1,2}})\s*{_UMARK}\s*(?P<f>\d{{1,2}})\s*[F层楼]\s*(?P<p>\d{{1,2}})(?!\d)",
            0.97,
        ),
        ("floor-position", rf"{_B}\s*{_BMARK}\s*(?P<f>\d{{1,2}})\s*[F层楼]\s*(?P<p>\d{{1,2}})(?![\d])", 0.95),
        ("building-room", rf"{_B}\s*{_BMARK}\s*-?\s*{_ROOM}", 0.93),
        ("unit-room", rf"(?<!\d)(?P<u>\d{{1,2}})\s*{_UMARK}\s*-?\s*{_ROOM}", 0.85),
        ("dash-room", rf"(?<![./:-]){_B}\s*-\s*{_ROOM}(?!\s*-\s*\d)", 0.8),
        ("room", r"(?<![\d-])(?P<r>\d{3,4})\s*(?:室|房)", 0.7),
    )
)

# Another room after a unit, in the same building and 单元: `1502、1503`, `1502/1602`, `1502和1503`.
_SIBLING = re.compile(r"\s*(?:、|,|/|&|和|及|\+|与)\s*(?P<r>\d{3,4})(?![\d-])(?:\s*(?:室|房|号))?")


def room_number(text: str) -> str | None:
    """`"1502"` → `"1502"`, `"0802"` → `"802"`; None when it cannot be a room (floor 1–60, position 1–12)."""
    digits = text.lstrip("0")
    if not 3 <= len(digits) <= 4:
        return None
    floor, position = int(digits[:-2]), int(digits[-2:])
    if not (1 <= floor <= 60 and 1 <= position <= 12):
        return None
    return digits


def _part(value: str | None, maximum: int) -> str | None:
    if value is None:
        return None
    if value.isalpha():
        return value
    number = int(value)
    return str(number) if 1 <= number <= maximum else ""


def _ref_from(match: re.Match[str], rule: str, confidence: float) -> UnitRef | None:
    groups = match.groupdict()
    if groups.get("f") is not None:
        room = room_number(f"{int(groups['f'])}{int(groups['p']):02d}")
    else:
        room = room_number(groups["r"])
    building = _part(groups.get("b"), 99)
    unit = _part(groups.get("u"), 20)
    if room is None or building == "" or unit == "":
        return None
    return UnitRef(building, unit, room, confidence, rule, match.span())


def _siblings(masked: str, ref: UnitRef) -> list[UnitRef]:
    found = []
    position = ref.span[1]
    while True:
        match = _SIBLING.match(masked, position)
        if match is None:
            return found
        room = room_number(match.group("r"))
        if room is None:
            return found
        found.append(
            UnitRef(
                ref.building,
                ref.unit,
                room,
                round(ref.confidence - 0.02, 2),
                ref.rule + "+sibling",
                (match.start("r"), match.end()),
            )
        )
        position = match.end()


def find_units(normalized: str) -> list[UnitRef]:
    """Every unit named in an already normalised memo, in the order written, without repeats."""
    masked = _mask(normalized)
    taken: list[tuple[int, int]] = []
    refs: list[UnitRef] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= start or span[0] >= end for start, end in taken)

    for rule, pattern, confidence in _RULES:
        for match in pattern.finditer(masked):
            if not free(match.span()):
                continue
            ref = _ref_from(match, rule, confidence)
            if ref is None:
                continue
            taken.append(ref.span)
            refs.append(ref)
            for sibling in _siblings(masked, ref):
                if free(sibling.span):
                    taken.append(sibling.span)
                    refs.append(sibling)
    refs.sort(key=lambda ref: ref.span[0])
    unique: dict[tuple[str | None, str | None, str], UnitRef] = {}
    for ref in refs:
        unique.setdefault(ref.key, ref)
    return list(unique.values())


# -- payment kinds ----------------------------------------------------------------------------------

_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("诚意金", r"诚意金|意向金|认筹金?|诚意款"),
    ("定金", r"定金|订金"),
    ("首付", r"首付|首期|首款|首笔房?款"),
    ("分期", r"分期|期款"),
    ("公积金", r"公积金|公积贷|住房公积"),
    ("按揭", r"按揭|商贷|银行贷款|商业贷款|贷款|放款|个贷|揭款"),
    ("一次性", r"一次性|全款|一次付清|全额房?款"),
    ("补差", r"补差|面积差|补面积|差价|面积补|面积款"),
    ("契税", r"契\s*[税稅锐]"),
    ("维修基金", r"维修\s*(?:基[金全今]|资金|金)|专项维修"),
    ("登记费", r"登\s*[记計计]\s*费|办证费"),
)
_KIND_RE = re.compile("|".join(f"(?P<k{i}>{pattern})" for i, (_, pattern) in enumerate(_KIND_WORDS)))
_REFUND_RE = re.compile(r"退(?!休)|返还|退回")
_CONVERSION_RE = re.compile(r"转\s*(?:为|成|入)?\s*定金")
_GENERIC_LOAN = re.compile(r"贷款|放款")


def find_kinds(normalized: str) -> tuple[str, ...]:
    """The payment kinds a normalised memo names, in the order written (`退款` alone when it refunds)."""
    if _REFUND_RE.search(normalized):
        return ("退款",)
    if _CONVERSION_RE.search(normalized):
        return ("定金",)
    kinds: list[str] = []
    has_fund = "公积" in normalized
    for match in _KIND_RE.finditer(normalized):
        index = int(match.lastgroup[1:])  # type: ignore[index]
        kind = _KIND_WORDS[index][0]
        if kind == "按揭" and has_fund and _GENERIC_LOAN.fullmatch(match.group(0)):
            continue  # 公积金贷款 / 公积金放款 is a provident-fund loan, not a commercial one
        if kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


_COLLECTED_FOR_OTHERS = re.compile(r"代\s*[收缴]")


@functools.lru_cache(maxsize=4096)  # a ledger's few purposes, on every receipt
def fee_kind(purpose: str | None, memo_kind: str | None = None) -> str | None:
    """The fee collected for others that a ledger bill's purpose (收款用途) names: the fee itself
    (`代收契税` → 契税), else, for a purpose that only says it is collected for others (`代收款`), the fee
    the memo named (`memo_kind`) or `代收款`; None for a purpose of anything else."""
    if not purpose:
        return None
    normalized = normalize(purpose)
    named = next((kind for kind in find_kinds(normalized) if kind in FEE_KINDS), None)
    if named is not None:
        return named
    if _COLLECTED_FOR_OTHERS.search(normalized):
        return memo_kind if memo_kind in FEE_KINDS else "代收款"
    return None


@functools.lru_cache(maxsize=4096)  # a ledger's few accounts, on every voucher line
def fee_payable_kind(account_name: str | None) -> str | None:
    """The fee a ledger account holds for others (`其他应付款_代收契税` → 契税): a name that says it is collected
    or paid for others (代收, 代缴) and names one of the fees; None for any other account (the developer's own
    `应交税费_契税` is no fee of a buyer's, `代扣代缴个人所得税` names none)."""
    if not account_name:
        return None
    normalized = normalize(account_name)
    if not _COLLECTED_FOR_OTHERS.search(normalized):
        return None
    return next((kind for kind in find_kinds(normalized) if kind in FEE_KINDS[:3]), None)


@functools.lru_cache(maxsize=65_536)
def parse_memo(text: str) -> MemoReading:
    """Read one memo. Never raises: a memo that names nothing gives a reading without units.

    Readings are immutable and cached (a receipt's remark comes again on its voucher lines)."""
    normalized = normalize(text)
    return MemoReading(text, normalized, tuple(find_units(normalized)), find_kinds(normalized))
