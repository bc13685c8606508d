"""Memos (摘要) the way clerks write them, each with the truth of what it names.

`write_memo` draws a style and writes a memo for one or more units and payment kinds; the `Memo` it
returns carries the text and what a perfect reader would take from it: the units as written
(building, 单元, room — None for a part the memo leaves out) and the payment kinds named. That truth
is what `bench.memo_score` scores the parser against. A memo that names the wrong room (a clerk's
slip the world plants) is written with the wrong room: the truth says what is written, and the
ledger's ground truth says which house was meant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_CN_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH = str.maketrans("0123456789-#", "０１２３４５６７８９－＃")
BANK_SHORT = {
    "工商银行": "工行",
    "建设银行": "建行",
    "招商银行": "招行",
    "中国银行": "中行",
    "农业银行": "农行",
    "平安银行": "平安",
    "公积金中心": "公积金中心",
}

# the words a clerk writes for each kind of payment (first: the usual one)
KIND_WORDS = {
    "诚意金": ("诚意金", "认筹金", "意向金"),
    "定金": ("定金", "订金", "定金款"),
    "首付": ("首付款", "首付", "首期款", "首期"),
    "分期": ("分期款", "分期付款", "期款"),
    "按揭": ("按揭款", "按揭", "银行按揭款", "商贷放款", "按揭放款"),
    "公积金": ("公积金贷款", "公积金放款", "公积金"),
    "一次性": ("一次性付款", "全款", "一次性房款"),
    "补差": ("面积补差款", "补差款", "面积差价款"),
    "退款": ("退款", "退房款"),
    # fees collected for others (sandbox.ledger.fees), with the slips clerks make typing them
    "契税": ("代收契税", "契税", "契税款", "代缴契税", "契稅", "代收契锐"),
    "维修基金": ("维修基金", "代收维修基金", "专项维修资金", "维修资金", "维修基全", "公共维修基金"),
    "登记费": ("登记费", "代收登记费", "产权登记费", "不动产登记费", "登计费", "办证登记费"),
}


@dataclass(frozen=True, slots=True)
class Address:
    """A unit as its memo may name it: `3栋` `2单元` `1502` → building 3, unit 2, floor 15, position 2."""

    house_id: str
    building: int
    unit: int
    floor: int
    position: int

    @property
    def room(self) -> str:
        return f"{self.floor}{self.position:02d}"

    @classmethod
    def from_house(cls, house: dict) -> Address:
        building = int("".join(ch for ch in house["building"] if ch.isdigit()) or 1)
        unit = int("".join(ch for ch in house["unit"] if ch.isdigit()) or 1)
        room = house["room"]
        return cls(house["house_id"], building, unit, int(room[:-2]), int(room[-2:]))

    def neighbour(self, rng: random.Random) -> Address:
        """The room a slip of the finger names instead: one position or one floor off."""
        if rng.random() < 0.5 and self.position > 1:
            return Address(self.house_id + "~", self.building, self.unit, self.floor, self.position - 1)
        if rng.random() < 0.5:
            return Address(self.house_id + "~", self.building, self.unit, self.floor, self.position + 1)
        return Address(self.house_id + "~", self.building, self.unit, self.floor + 1, self.position)


Written = tuple[str | None, str | None, str]


@dataclass(frozen=True, slots=True)
class Memo:
    text: str
    style: str
    written: tuple[Written, ...]
    kinds: tuple[str, ...]


def chinese_number(value: int) -> str:
    """3 → 三, 12 → 十二, 21 → 二十一 (for building and 单元 numbers)."""
    if value < 10:
        return _CN_DIGITS[value]
    tens, ones = divmod(value, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def _room_text(rng: random.Random, address: Address) -> str:
    room = address.room
    return "0" + room if len(room) == 3 and rng.random() < 0.3 else room


# Styles: name → (weight, writer). A writer returns (the unit text, what it names).
def _dashed(rng, a):  # noqa: ANN001, ANN202 - small private writers
    sep = rng.choice(("-", "-", "-", "—", "_"))
    return f"{a.building}{sep}{a.unit}{sep}{_room_text(rng, a)}", (str(a.building), str(a.unit), a.room)


def _hash(rng, a):  # noqa: ANN001, ANN202
    return f"{a.building}#{a.unit}单元{a.room}", (str(a.building), str(a.unit), a.room)


def _full(rng, a):  # noqa: ANN001, ANN202
    marker = rng.choice(("栋", "栋", "栋", "号楼", "幢", "座"))
    suffix = rng.choice(("", "", "室", "房"))
    space = rng.choice(("", "", " "))
    return f"{a.building}{marker}{space}{a.unit}单元{space}{_room_text(rng, a)}{suffix}", (
        str(a.building),
        str(a.unit),
        a.room,
    )


def _chinese(rng, a):  # noqa: ANN001, ANN202
    suffix = rng.choice(("室", "", "房"))
    return f"{chinese_number(a.building)}栋{chinese_number(a.unit)}单元{a.room}{suffix}", (
        str(a.building),
        str(a.unit),
        a.room,
    )


def _letter(rng, a):  # noqa: ANN001, ANN202
    letter = chr(ord("A") + a.building - 1)
    marker = rng.choice(("F", "F", "层"))
    return f"{letter}座{a.floor}{marker}{a.position:02d}", (letter, None, a.room)


def _full_width(rng, a):  # noqa: ANN001, ANN202
    text, written = (_dashed if rng.random() < 0.5 else _full)(rng, a)
    return text.translate(_FULL_WIDTH), written


def _no_unit_part(rng, a):  # noqa: ANN001, ANN202
    marker = rng.choice(("栋", "#", "号楼"))
    return f"{a.building}{marker}{a.room}", (str(a.building), None, a.room)


def _no_building(rng, a):  # noqa: ANN001, ANN202
    return f"{a.unit}单元{a.room}", (None, str(a.unit), a.room)


def _room_only(rng, a):  # noqa: ANN001, ANN202
    return f"{a.room}{rng.choice(('室', '房'))}", (None, None, a.room)


def _slashed(rng, a):  # noqa: ANN001, ANN202
    return f"{a.building}/{a.unit}/{a.room}", (str(a.building), str(a.unit), a.room)


def _dash_unit(rng, a):  # noqa: ANN001, ANN202
    return f"{a.building}栋{a.unit}-{a.room}", (str(a.building), str(a.unit), a.room)


def _typo(rng, a):  # noqa: ANN001, ANN202
    unit_word = rng.choice(("单远", "单元", "单", "単元"))
    building_word = rng.choice(("冻", "栋", "棟"))
    return f"{a.building}{building_word}{a.unit}{unit_word}{a.room}", (str(a.building), str(a.unit), a.room)


def _hash_lou(rng, a):  # noqa: ANN001, ANN202
    return f"{a.building}#楼{a.unit}单元{a.room}", (str(a.building), str(a.unit), a.room)


def _mixed_numerals(rng, a):  # noqa: ANN001, ANN202
    return f"{a.building}栋{chinese_number(a.unit)}单元{a.room}", (str(a.building), str(a.unit), a.room)


def _ordinal(rng, a):  # noqa: ANN001, ANN202
    return f"第{a.building}栋{a.unit}单元{a.room}室", (str(a.building), str(a.unit), a.room)


def _floor_position(rng, a):  # noqa: ANN001, ANN202
    return f"{a.building}栋{a.unit}单元{a.floor}楼{a.position:02d}", (str(a.building), str(a.unit), a.room)


STYLES = {
    "dashed": (26, _dashed),
    "hash": (10, _hash),
    "full": (22, _full),
    "chinese": (6, _chinese),
    "letter": (3, _letter),
    "full-width": (4, _full_width),
    "no-unit-part": (5, _no_unit_part),
    "no-building": (2, _no_building),
    "room-only": (2, _room_only),
    "slashed": (3, _slashed),
    "dash-unit": (4, _dash_unit),
    "typo": (5, _typo),
    "hash-lou": (3, _hash_lou),
    "mixed-numerals": (2, _mixed_numerals),
    "ordinal": (1, _ordinal),
    "floor-position": (1, _floor_position),
}
_STYLE_NAMES = tuple(STYLES)
_STYLE_WEIGHTS = tuple(weight for weight, _ in STYLES.values())


def _kind_text(rng: random.Random, kinds: tuple[str, ...], *, part: int, parts: int) -> tuple[str, tuple[str, ...]]:
    if not kinds:
        return rng.choice(("房款", "购房款", "")), ()
    words = [rng.choice(KIND_WORDS[kind][:2]) if rng.random() < 0.8 else rng.choice(KIND_WORDS[kind]) for kind in kinds]
    text = "及".join(words)
    if parts > 1:
        text += rng.choice((f"({part}/{parts})", f"第{part}笔", f"({part})"))
    return text, kinds


def _distractor(rng: random.Random, amount_fen: int, on: str) -> str:
    yuan, cents = divmod(amount_fen, 100)
    return rng.choice(
        (
            f"{yuan}元",
            f"¥{yuan:,}.{cents:02d}",
            on,
            f"{int(on[5:7])}月{int(on[8:10])}日",
            f"尾号{rng.randint(1000, 9999)}",
            f"{yuan / 10000:g}万",
        )
    )


def write_memo(
    rng: random.Random,
    addresses: list[Address],
    kinds: tuple[str, ...],
    *,
    buyer: str,
    payer: str | None = None,
    bank: str | None = None,
    amount_fen: int = 0,
    on: str = "2026-01-01",
    part: int = 1,
    parts: int = 1,
    template: str | None = None,
    named_rate: float = 0.93,
) -> Memo:
    """A memo for a payment of `kinds` on `addresses` (one or two units).

    `template` fixes the wording around the units (`"{units}房款转入{other}"` …); by default one is
    drawn. About 1 − `named_rate` of memos name no unit at all (`收张三首付款`).
    """
    kind_text, named_kinds = _kind_text(rng, kinds, part=part, parts=parts)
    if template is None and rng.random() > named_rate:
        text = rng.choice((f"收{buyer}{kind_text}", f"{buyer} {kind_text}", f"收到{payer or buyer}{kind_text}"))
        if not kind_text:
            named_kinds = ()
        return Memo(text, "no-unit", (), named_kinds)
    style = rng.choices(_STYLE_NAMES, weights=_STYLE_WEIGHTS)[0]
    writer = STYLES[style][1]
    pieces = [writer(rng, address) for address in addresses]
    written = tuple(piece[1] for piece in pieces)
    if (
        len(pieces) > 1
        and rng.random() < 0.5
        and all(a.building == addresses[0].building and a.unit == addresses[0].unit for a in addresses)
    ):
        # 3-2-1502、1503: the second room shares the first one's building and 单元
        first_text = pieces[0][0]
        units_text = first_text + "、" + "、".join(a.room for a in addresses[1:])
        written = (written[0], *((written[0][0], written[0][1], a.room) for a in addresses[1:]))
        style += "+sibling"
    else:
        units_text = rng.choice(("、", " ", "及", ",")).join(piece[0] for piece in pieces)
    if template is not None:
        text = template.format(units=units_text, kind=kind_text, buyer=buyer, payer=payer or buyer)
    else:
        text = _compose(rng, units_text, kind_text, buyer=buyer, payer=payer, bank=bank)
    if rng.random() < 0.15:
        extra = _distractor(rng, amount_fen, on)
        text = f"{text} {extra}" if rng.random() < 0.7 else f"{extra} {text}"
    return Memo(text, style, written, named_kinds if kind_text else ())


def _compose(rng: random.Random, units: str, kind: str, *, buyer: str, payer: str | None, bank: str | None) -> str:
    short = BANK_SHORT.get(bank or "", bank or "")
    if payer and payer != buyer and not bank:
        return rng.choice(
            (
                f"{payer}代{buyer}付{units}{kind}",
                f"{payer}付{units} {buyer}{kind}",
                f"{units} {buyer}{kind}({payer}代付)",
            )
        )
    if bank:
        return rng.choice(
            (
                f"{kind} {short} {units}",
                f"{short}{kind} {units} {buyer}",
                f"收{units}{buyer}{kind}",
                f"{units} {buyer} {short}{kind}",
            )
        )
    return rng.choice(
        (
            f"收{units}{kind}",
            f"{units} {buyer} {kind}",
            f"收{buyer}{units}{kind}",
            f"{units}{kind} {buyer}",
            f"{buyer}{units}{kind}",
        )
    )
