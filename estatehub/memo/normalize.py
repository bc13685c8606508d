"""Text normalisation before a memo (摘要) is read: width, numerals, separators, common typos.

Clerks type memos on whatever keyboard and input method is at hand: full-width digits (`３栋`),
Chinese numerals (`三栋二单元`, `十二栋`), financial numerals (`叁栋`), every kind of dash, traditional
characters (`棟`, `號`) and slips of the input method (`单远` for `单元`). `normalize` maps all of that
to one plain form so that the parser's rules stay few: ASCII digits and upper-case letters, `-` as the
only dash, single spaces. Chinese numerals are turned into digits only in front of a word that counts
something a unit address has (栋, 单元, 楼, 层, 室 …), so that `一次性` and `第一笔` keep their meaning.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "壹": 1,
    "幺": 1,
    "二": 2,
    "贰": 2,
    "貳": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "叁": 3,
    "參": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "陸": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_TENS = {"十": 10, "拾": 10}
_HUNDREDS = {"百": 100, "佰": 100}
_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_TENS) + "".join(_HUNDREDS)

# Words after which a number counts a part of a unit's address.
_COUNTERS = ("号楼", "栋", "幢", "座", "单元", "单", "楼", "层", "室", "房", "号", "期", "#")
_NUMERAL_RUN = re.compile(
    f"[{_NUMERAL_CHARS}]+(?=\\s*(?:{'|'.join(map(re.escape, _COUNTERS))}))"  # 三栋, 二单元
    f"|(?:(?<=单元)|(?<=[栋座#]))[{_NUMERAL_CHARS}]+"  # 二单元一五零二
    f"|[{''.join(_DIGITS)}]{{3,}}"  # 一五零二: three or more digits, spelt out
)

# Characters NFKC leaves alone but clerks use as separators or markers.
_TRANSLATE = str.maketrans(
    {
        "—": "-",
        "–": "-",
        "―": "-",
        "‐": "-",
        "−": "-",
        "－": "-",
        "~": "-",
        "～": "-",
        "〜": "-",
        "_": "-",
        "﹣": "-",
        "，": ",",
        "；": ";",
        "：": ":",
        "（": "(",
        "）": ")",
        "【": "(",
        "】": ")",
        "[": "(",
        "]": ")",
        "　": " ",
        "\t": " ",
        "\u00a0": " ",
        "棟": "栋",
        "號": "号",
        "幢": "栋",
        "樓": "楼",
        "單": "单",
        "層": "层",
        "貸": "贷",
        "訂": "订",
    }
)

# Slips of the input method and shorthand, mapped to the word meant. Longest first.
_TYPOS = (
    ("单远", "单元"),
    ("单无", "单元"),
    ("単元", "单元"),
    ("丹元", "单元"),
    ("单圆", "单元"),
    ("单原", "单元"),
    ("按接", "按揭"),
    ("安揭", "按揭"),
    ("按借", "按揭"),
    ("按掲", "按揭"),
    ("公基金", "公积金"),
    ("工积金", "公积金"),
    ("公积今", "公积金"),
    ("首附", "首付"),
    ("手付", "首付"),
    ("首赴", "首付"),
    ("订金", "定金"),
    ("定精", "定金"),
    ("冻", "栋"),
    ("动", "栋"),
)
_TYPO_RE = re.compile("|".join(re.escape(wrong) for wrong, _ in _TYPOS))
_TYPO_MAP = dict(_TYPOS)
_SPACES = re.compile(r"\s+")


def chinese_numeral_value(text: str) -> int:
    """`三` → 3, `十二` → 12, `二十一` → 21, `一五〇二` → 1502 (digit by digit when there is no 十 or 百).

    Raises ValueError for text that is not a numeral.
    """
    if not text or any(ch not in _NUMERAL_CHARS for ch in text):
        raise ValueError(f"expected a Chinese numeral, got {text!r}")
    if not any(ch in _TENS or ch in _HUNDREDS for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _TENS:
            total += (current or 1) * 10
            current = 0
        else:
            total += (current or 1) * 100
            current = 0
    return total + current


def _numerals_to_digits(match: re.Match[str]) -> str:
    text = match.group(0).strip()
    try:
        return str(chinese_numeral_value(text))
    except ValueError:  # pragma: no cover - the pattern only matches numeral characters
        return match.group(0)


def _fix_typo(match: re.Match[str]) -> str:
    wrong = match.group(0)
    if wrong in ("冻", "动"):
        return wrong  # handled by the caller only after a digit: "3冻" is 3栋, "活动" is not
    return _TYPO_MAP[wrong]


_BUILDING_SLIP = re.compile(r"(?<=\d)\s*[冻动](?=\s*\d)")


def normalize(text: str) -> str:
    """The memo in the parser's plain form (see the module docstring)."""
    value = unicodedata.normalize("NFKC", text or "")
    value = value.translate(_TRANSLATE)
    value = _TYPO_RE.sub(_fix_typo, value)
    value = _BUILDING_SLIP.sub("栋", value)
    value = _NUMERAL_RUN.sub(_numerals_to_digits, value)
    value = value.upper()
    return _SPACES.sub(" ", value).strip()
