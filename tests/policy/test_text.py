"""Normalised snapshots, diffs, and classification by the watch file's rules."""

from __future__ import annotations

from estatehub.policy.classify import classify
from estatehub.policy.config import load_config
from estatehub.policy.diff import diff_lines, inline_diff, pair_lines
from estatehub.policy.normalise import compile_patterns, normalise_lines, split_sentences

CONFIG = load_config()


def test_lines_are_split_into_sentences_and_stripped_of_ignored_patterns_and_spaces():
    ignore = compile_patterns(CONFIG.watches[0].ignore_regexes)
    snapshot = normalise_lines(
        [
            "　　一、本通知自2026年1月20日起施行。二、首付比例为20%。",
            "发布时间：2026-02-23 10:51\u3000\u3000来源：本网　　浏览次数：319",
            "当前时间：2026-03-02 10:15:32",
        ],
        ignore,
    )
    assert snapshot.lines == (
        "一、本通知自2026年1月20日起施行。",
        "二、首付比例为20%。",
        "发布时间：2026-02-23 10:51 来源：本网",
    )


def test_the_hash_depends_on_the_text_not_on_the_noise_or_the_layout():
    ignore = compile_patterns(CONFIG.watches[0].ignore_regexes)
    one = normalise_lines(["第一条 内容。第二条 内容。", "浏览次数：1"], ignore)
    two = normalise_lines(["第一条  内容。", "　第二条 内容。", "浏览次数：99999"], ignore)
    assert one.hash == two.hash
    assert one.hash != normalise_lines(["第一条 内容。第二条 新内容。"], ignore).hash


def test_a_quoted_sentence_stays_with_its_closing_mark():
    assert split_sentences("他说：“暂停受理。”自即日起执行。") == ["他说：“暂停受理。”", "自即日起执行。"]


def test_the_diff_names_the_added_and_removed_lines_in_order():
    old = ["标题：通知", "一、首付比例为30%。", "二、自3月1日起施行。"]
    new = ["标题：通知", "一、首付比例为25%。", "二、自3月1日起施行。", "三、暂停受理。"]
    diff = diff_lines(old, new)
    assert diff.added == ("一、首付比例为25%。", "三、暂停受理。")
    assert diff.removed == ("一、首付比例为30%。",)
    assert diff_lines(old, old).empty


def test_a_replaced_line_is_paired_with_its_old_self_and_the_changed_characters_marked():
    pairs = pair_lines(["一、首付比例为30%。"], ["一、首付比例为25%。", "三、暂停受理。"])
    assert pairs == {"一、首付比例为25%。": "一、首付比例为30%。"}
    assert inline_diff("提前15日通知", "提前30日通知") == [("same", "提前"), ("added", "30"), ("same", "日通知")]


def test_topics_come_from_the_keywords_and_urgency_from_topics_and_words():
    rules, topics = CONFIG.urgency, CONFIG.topics
    plain = classify(about=["关于2026年清明节假期值班安排的通知"], added=[], topics=topics, rules=rules)
    assert plain.topics == () and plain.urgency == "low"
    fee = classify(about=["不动产登记收费标准：住宅类每件80元"], added=["住宅类每件60元"], topics=topics, rules=rules)
    assert fee.topics == ("契税/收费标准",) and fee.urgency == "medium"
    limit = classify(about=["限购政策"], added=["四、本通知自2026年4月1日起施行。"], topics=topics, rules=rules)
    assert limit.urgency == "high" and "涉及限购" in limit.reasons
    stop = classify(about=["网签备案"], added=["自即日起，暂停受理纸质备案。"], topics=topics, rules=rules)
    assert stop.urgency == "high" and any("“暂停”" in r for r in stop.reasons)
    gone = classify(about=["值班安排"], added=[], topics=topics, rules=rules, withdrawn=True)
    assert gone.urgency == "medium" and "文件已撤销" in gone.reasons
