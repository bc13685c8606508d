"""The e-mails of the policy monitor, in Chinese, each with a plain-text and an HTML part.

- `digest`: the new, changed, withdrawn notices and replaced attachments since the last digest, most
  urgent first, each with its topics, why it is urgent, and the lines added and removed (in HTML the
  changed characters of a replaced line are highlighted);
- `failure_alert`: watches whose checks failed `failures_before_alert` times in a row;
- `selector_alert`: watches whose pages no longer match their selectors (the site was redesigned);
- `recovery`: watches that work again after one of the alerts above;
- `attachment_failure_alert`: attachments that could not be read (too large, a decompression or
  entity bomb, a file its parser fails on), each told once.

Times are shown in Beijing time. No personal data is in policy notices, and the texts shown are the
bureau's public texts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from html import escape

from estatehub.policy.config import URGENCY_LABELS, URGENCY_LEVELS, PolicyConfig, Watch
from estatehub.policy.diff import inline_diff, pair_lines
from estatehub.policy.store import StoredChange, StoredFailure, WatchState
from estatehub.settings import BUSINESS_TZ

KIND_LABELS = {"new": "新发布", "changed": "修改", "attachment_changed": "附件更换", "withdrawn": "撤销"}
_KIND_ORDER = ("new", "changed", "attachment_changed", "withdrawn")
_URGENCY_COLOURS = {"high": "#c0392b", "medium": "#d68910", "low": "#7f8c8d"}
_SUMMARY_LINES = 8
_STYLE = "font-family:'Microsoft YaHei','PingFang SC',sans-serif;font-size:14px;color:#222;line-height:1.6"


def local(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _message(config: PolicyConfig, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.alerts.sender
    message["To"] = ", ".join(config.alerts.recipients)
    message.set_content(text)
    message.add_alternative(f'<html><body style="{_STYLE}">{html}</body></html>', subtype="html")
    return message


# -- digest ------------------------------------------------------------------------------------------


def _sorted(changes: Sequence[StoredChange]) -> list[StoredChange]:
    return sorted(
        changes,
        key=lambda c: (-URGENCY_LEVELS.index(c.urgency), _KIND_ORDER.index(c.kind), c.detected_at, c.change_id),
    )


def digest_subject(config: PolicyConfig, changes: Sequence[StoredChange], now: datetime) -> str:
    kinds = Counter(c.kind for c in changes)
    parts = "、".join(f"{KIND_LABELS[k]} {kinds[k]}" for k in _KIND_ORDER if kinds[k])
    urgent = sum(c.urgency == "high" for c in changes)
    urgent_text = f"（紧急 {urgent}）" if urgent else ""
    return f"{config.alerts.subject_prefix} {len(changes)} 项政策变化{urgent_text}：{parts} · {local(now)}"


def digest(config: PolicyConfig, changes: Sequence[StoredChange], now: datetime) -> EmailMessage:
    """The digest of `changes` (not empty)."""
    if not changes:
        raise ValueError("expected at least one change for a digest, got none")
    ordered = _sorted(changes)
    levels = Counter(c.urgency for c in ordered)
    watch_names = {w.id: w.name for w in config.watches}
    overview = "、".join(f"{URGENCY_LABELS[lvl]} {levels[lvl]} 项" for lvl in reversed(URGENCY_LEVELS) if levels[lvl])
    head = f"{config.site.name} 网站政策变化摘要"
    when = f"检查时间：{local(now)}（北京时间）　共 {len(ordered)} 项：{overview}"
    text = [head, when, ""]
    html = [f"<h2 style='margin:0 0 4px'>{escape(head)}</h2><p style='color:#555;margin:0 0 16px'>{escape(when)}</p>"]
    limit = config.alerts.max_lines_per_change
    for number, change in enumerate(ordered, 1):
        text.extend(_change_text(number, change, watch_names, limit))
        html.append(_change_html(number, change, watch_names, limit))
    footer = (
        "本邮件由 estatehub 政策监测自动发送；网页上的访问量、时间、轮播等内容已忽略。"
        "判断依据和关注主题见 config/policy_watches.yaml。"
    )
    text.append(footer)
    html.append(f"<p style='color:#888;font-size:12px'>{escape(footer)}</p>")
    return _message(config, digest_subject(config, ordered, now), "\n".join(text), "".join(html))


def _meta(change: StoredChange, watch_names: dict[str, str]) -> list[str]:
    meta = []
    if change.doc_number:
        meta.append(f"文号：{change.doc_number}")
    if change.published_on:
        meta.append(f"发布日期：{change.published_on.isoformat()}")
    meta.append(f"栏目：{watch_names.get(change.watch_id, change.watch_id)}")
    meta.append(f"发现时间：{local(change.detected_at)}")
    return meta


def _headline(change: StoredChange) -> str:
    topics = "、".join(change.topics) if change.topics else "其他"
    return f"【{URGENCY_LABELS[change.urgency]}】{KIND_LABELS[change.kind]}｜{topics}"


def _shown(change: StoredChange, limit: int) -> tuple[list[str], list[str], int]:
    """Lines to show (added, removed) and how many are left out."""
    if change.kind == "new":
        added, removed = list(change.added[: min(limit, _SUMMARY_LINES)]), []
    elif change.kind == "withdrawn":
        added, removed = [], list(change.removed[: min(limit, _SUMMARY_LINES)])
    else:
        added, removed = list(change.added[:limit]), list(change.removed[:limit])
    hidden = len(change.added) + len(change.removed) - len(added) - len(removed)
    return added, removed, hidden


def _change_text(number: int, change: StoredChange, watch_names: dict[str, str], limit: int) -> list[str]:
    lines = [f"{number}. {_headline(change)}", f"   {change.title}"]
    if change.attachment_label:
        lines.append(f"   附件：{change.attachment_label}")
    lines.append("   " + "　".join(_meta(change, watch_names)))
    if change.reasons:
        lines.append("   依据：" + "；".join(change.reasons))
    lines.append(f"   链接：{change.url}")
    added, removed, hidden = _shown(change, limit)
    if change.kind == "new":
        lines.append("   内容摘要：")
        lines.extend(f"     {line}" for line in added)
    elif change.kind == "withdrawn":
        lines.append("   该文件已从网站撤下；撤下前的内容：")
        lines.extend(f"     - {line}" for line in removed)
    else:
        if added:
            lines.append("   新增：")
            lines.extend(f"     + {line}" for line in added)
        if removed:
            lines.append("   删除：")
            lines.extend(f"     - {line}" for line in removed)
    if hidden > 0:
        lines.append(f"   ……另有 {hidden} 行未显示，请打开链接查看全文")
    lines.append("")
    return lines


def _change_html(number: int, change: StoredChange, watch_names: dict[str, str], limit: int) -> str:
    colour = _URGENCY_COLOURS[change.urgency]
    added, removed, hidden = _shown(change, limit)
    parts = [
        f"<div style='border-left:4px solid {colour};padding:8px 12px;margin:0 0 16px;background:#fafafa'>",
        f"<div style='color:{colour};font-weight:bold'>{number}. {escape(_headline(change))}</div>",
        f"<div style='font-size:16px;font-weight:bold;margin:4px 0'><a href='{escape(change.url, quote=True)}'>"
        f"{escape(change.title)}</a></div>",
    ]
    if change.attachment_label:
        parts.append(f"<div>附件：{escape(change.attachment_label)}</div>")
    parts.append(f"<div style='color:#555;font-size:13px'>{escape('　'.join(_meta(change, watch_names)))}</div>")
    if change.reasons:
        parts.append(f"<div style='color:#555;font-size:13px'>依据：{escape('；'.join(change.reasons))}</div>")
    if change.kind == "new":
        parts.append("<div style='margin-top:6px'>内容摘要：</div>")
        parts.extend(f"<div style='padding-left:12px'>{escape(line)}</div>" for line in added)
    elif change.kind == "withdrawn":
        parts.append("<div style='margin-top:6px'>该文件已从网站撤下；撤下前的内容：</div>")
        parts.extend(_line_html("-", line, "#fdecea") for line in removed)
    else:
        pairs = pair_lines(removed, added)
        for line in removed:
            parts.append(_line_html("-", line, "#fdecea"))
        for line in added:
            old = pairs.get(line)
            if old is None:
                parts.append(_line_html("+", line, "#e8f8e8"))
            else:
                marked = "".join(
                    escape(text) if kind == "same" else f"<b style='background:#a8e6a8'>{escape(text)}</b>"
                    for kind, text in inline_diff(old, line)
                )
                parts.append(_line_html("+", marked, "#e8f8e8", escaped=True))
    if hidden > 0:
        parts.append(f"<div style='color:#888'>……另有 {hidden} 行未显示，请打开链接查看全文</div>")
    parts.append("</div>")
    return "".join(parts)


def _line_html(sign: str, line: str, background: str, *, escaped: bool = False) -> str:
    body = line if escaped else escape(line)
    return (
        f"<div style='background:{background};padding:2px 8px;margin:2px 0;font-family:monospace,sans-serif'>"
        f"{sign} {body}</div>"
    )


# -- failures, selectors, recovery --------------------------------------------------------------------


def failure_alert(
    config: PolicyConfig,
    watches: Sequence[tuple[Watch, WatchState]],
    now: datetime,
    last_errors: dict[str, str | None] | None = None,
) -> EmailMessage:
    names = "、".join(w.name for w, _ in watches)
    streak = max(s.consecutive_failures for _, s in watches)
    subject = f"{config.alerts.subject_prefix} 抓取连续失败 {streak} 次：{names}"
    text = [f"政策监测无法读取 {config.site.name} 网站（{local(now)}）：", ""]
    html = [f"<h2>{escape(text[0])}</h2><ul>"]
    for watch, state in watches:
        error = (last_errors or {}).get(watch.id) or state.last_error or "（无详细信息）"
        since = local(state.last_ok_at) if state.last_ok_at else "从未成功"
        line = (
            f"{watch.name}（{watch.url}）：连续 {state.consecutive_failures} 次检查失败；"
            f"上次成功：{since}；最近一次错误：{error}"
        )
        text.append(f"- {line}")
        html.append(f"<li>{escape(line)}</li>")
    advice = [
        "抓取失败不会被当作政策变化；已保存的最新内容保持不变，恢复后会自动补查并发送恢复通知。",
        "请用浏览器打开上面的地址，确认网站能否访问。如网站地址已变更，请更新 bureau_site 连接"
        "或 config/policy_watches.yaml 中的 site.base_url；如网站长期维护，可暂停 policy_monitor DAG。",
    ]
    text.extend(["", *advice])
    html.append("</ul>" + "".join(f"<p>{escape(a)}</p>" for a in advice))
    return _message(config, subject, "\n".join(text), "".join(html))


_SELECTOR_FIELDS = {
    "list.item": ("list.item", "列表中的每条通知"),
    "list.link": ("list.link", "通知的链接"),
    "list.page_count": ("list.page_count", "总页数（翻页脚本）"),
    "notice.content": ("notice.content", "通知正文"),
    "notice.title": ("notice.title", "通知标题"),
}


def _selector_value(watch: Watch, name: str) -> str:
    values = {
        "list.item": watch.list.selectors.item,
        "list.link": watch.list.selectors.link,
        "list.page_count": watch.list.selectors.page_count_pattern or "",
        "notice.content": watch.notice.content,
        "notice.title": watch.notice.title,
    }
    return values.get(name, "")


def selector_alert(config: PolicyConfig, watches: Sequence[tuple[Watch, WatchState]], now: datetime) -> EmailMessage:
    names = "、".join(w.name for w, _ in watches)
    subject = f"{config.alerts.subject_prefix} 页面结构变化，选择器失效：{names}"
    intro = f"{config.site.name} 网站的页面结构变了（{local(now)}），下列选择器已找不到内容："
    text = [intro, ""]
    html = [f"<h2>{escape(intro)}</h2><ul>"]
    for watch, state in watches:
        for name in state.selector_missing:
            key, meaning = _SELECTOR_FIELDS.get(name, (name, name))
            line = (
                f"{watch.name}（{watch.url}）：{meaning} — watches[{watch.id}].{key} = “{_selector_value(watch, name)}”"
            )
            text.append(f"- {line}")
            html.append(f"<li>{escape(line)}</li>")
    advice = [
        "这不是政策变化，也不会被当作通知撤销。选择器失效期间，列表中新发布的通知无法发现；已知通知仍会逐一检查。",
        "请用浏览器打开列表页，查看新的页面结构，并更新 config/policy_watches.yaml 中对应的选择器；"
        "更新后下一次检查会补报期间新发布的通知。",
    ]
    text.extend(["", *advice])
    html.append("</ul>" + "".join(f"<p>{escape(a)}</p>" for a in advice))
    return _message(config, subject, "\n".join(text), "".join(html))


def recovery(
    config: PolicyConfig,
    fetching: Sequence[tuple[Watch, WatchState]],
    matching: Sequence[tuple[Watch, WatchState]],
    now: datetime,
) -> EmailMessage:
    names = "、".join(dict.fromkeys(w.name for w, _ in [*fetching, *matching]))
    subject = f"{config.alerts.subject_prefix} 已恢复：{names}"
    lines = [f"{config.site.name} 网站监测已恢复（{local(now)}）：", ""]
    lines.extend(f"- {w.name}：抓取恢复正常" for w, _ in fetching)
    lines.extend(f"- {w.name}：选择器重新匹配" for w, _ in matching)
    lines.extend(["", "期间发生的政策变化（如有）会在变化摘要中单独发送。"])
    html = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    return _message(config, subject, "\n".join(lines), html)


_FAILURE_KINDS = {"too_large": "文件过大，未下载", "unreadable": "文件无法读取"}


def attachment_failure_alert(config: PolicyConfig, failures: Sequence[StoredFailure], now: datetime) -> EmailMessage:
    """The attachments that could not be read (not empty): which, on which notice, and why."""
    if not failures:
        raise ValueError("expected at least one attachment failure for the alert, got none")
    watch_names = {w.id: w.name for w in config.watches}
    labels = "、".join(dict.fromkeys(f.label for f in failures))
    subject = f"{config.alerts.subject_prefix} 附件无法读取 {len(failures)} 个：{labels}"
    intro = f"{config.site.name} 网站上的下列附件无法读取（{local(now)}），其内容变化无法按文字比对："
    text = [intro, ""]
    html = [f"<h2>{escape(intro)}</h2><ul>"]
    for failure in failures:
        notice = failure.notice_title or "（通知标题未知）"
        size = f"；大小 {failure.byte_size} 字节" if failure.byte_size is not None else ""
        line = (
            f"{failure.label}（{_FAILURE_KINDS.get(failure.kind, failure.kind)}）— 通知：{notice}；"
            f"栏目：{watch_names.get(failure.watch_id, failure.watch_id)}；链接：{failure.url}{size}；"
            f"发现时间：{local(failure.detected_at)}；原因：{failure.reason}"
        )
        text.append(f"- {line}")
        html.append(f"<li>{escape(line)}</li>")
    advice = [
        "同一通知的其他附件和其他通知照常检查；无法读取的附件按文件内容比对，文件更换时仍会报告。",
        "请用浏览器下载该附件确认内容。文件确实很大时，可在 config/policy_watches.yaml 的 limits 中调高对应限制；"
        "若文件异常（如压缩炸弹、含 DTD 的 XML），无需处理，本提醒每个文件只发送一次。",
    ]
    text.extend(["", *advice])
    html.append("</ul>" + "".join(f"<p>{escape(a)}</p>" for a in advice))
    return _message(config, subject, "\n".join(text), "".join(html))
