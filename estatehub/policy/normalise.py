"""Normalised text snapshots: what is compared, hashed and shown, free of layout and noise.

Lines come from the page block by block; here the ignore regexes of the watch file are cut out of
each line, white space is collapsed (full-width spaces and no-break spaces too), and each line is
split into sentences (after 。！？；), so that a changed number or date shows as the one sentence that
changed, not as a whole paragraph. Characters are kept as written (no full-width to half-width
folding): the lines are what the digest shows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SPACE = re.compile(r"[\s\u3000\xa0\u200b\ufeff]+")
_CLOSERS = "”’」』）)\\]】》"
# after 。！？； (and the closing quotes or brackets right after one), not before a closing mark
_SENTENCE_END = re.compile(rf"(?<=[。！？；])(?![{_CLOSERS}])|(?<=[。！？；][{_CLOSERS}])")


@dataclass(frozen=True)
class TextSnapshot:
    """The normalised lines of a notice or an attachment, and the SHA-256 of their text."""

    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def hash(self) -> str:
        return text_hash(self.text)

    @classmethod
    def from_text(cls, text: str) -> TextSnapshot:
        return cls(tuple(line for line in text.split("\n") if line))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bytes_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def compile_patterns(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


def split_sentences(line: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(line) if part.strip()]


def normalise_lines(lines: Iterable[str], ignore: Sequence[re.Pattern[str]] = ()) -> TextSnapshot:
    """Lines with the ignored patterns removed, white space collapsed, split into sentences."""
    out: list[str] = []
    for line in lines:
        for pattern in ignore:
            line = pattern.sub("", line)
        line = _SPACE.sub(" ", line).strip()
        if line:
            out.extend(split_sentences(line))
    return TextSnapshot(tuple(out))
