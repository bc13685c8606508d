"""Topics and urgency of a change, by the rules of the watch file.

A change's topics are those whose keywords appear in the notice (title, text, attachments) or in
what changed; its urgency is the highest of the topics' own urgency, the urgency words found in
what was added (the whole text for a new notice), and, for a withdrawn notice, the `withdrawn` level.
Every reason is kept, so the digest can say why a change is urgent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from estatehub.policy.config import URGENCY_LEVELS, Topic, UrgencyRules


@dataclass(frozen=True)
class Classification:
    topics: tuple[str, ...]
    urgency: str
    reasons: tuple[str, ...]


def _rank(level: str) -> int:
    return URGENCY_LEVELS.index(level)


def find_topics(texts: Iterable[str], topics: Iterable[Topic]) -> list[Topic]:
    joined = "\n".join(texts)
    return [topic for topic in topics if any(keyword in joined for keyword in topic.keywords)]


def classify(
    *,
    about: Iterable[str],
    added: Iterable[str],
    topics: Iterable[Topic],
    rules: UrgencyRules,
    withdrawn: bool = False,
) -> Classification:
    """Topics from `about` (what the notice is) and urgency from them and the words in `added`."""
    found = find_topics(about, topics)
    level = rules.default
    reasons: list[str] = []
    for topic in found:
        if _rank(topic.urgency) > _rank(level):
            level = topic.urgency
        reasons.append(f"涉及{topic.name}")
    added_text = "\n".join(added)
    for word_level, words in rules.words.items():
        hits = [word for word in words if word in added_text]
        if hits:
            reasons.append("出现" + "、".join(f"“{w}”" for w in hits))
            if _rank(word_level) > _rank(level):
                level = word_level
    if withdrawn:
        reasons.append("文件已撤销")
        if _rank(rules.withdrawn) > _rank(level):
            level = rules.withdrawn
    return Classification(tuple(topic.name for topic in found), level, tuple(reasons))
