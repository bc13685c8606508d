"""The daily digest of the work lists: one HTML email per person, in the person's language, with only
that person's items, and the workbook of their lists (one sheet per list).

    digests = build_digests(warehouse, day, assignees)          # person → Report
    send_digests(warehouse, day, assignees, send=SmtpSender().send, out=folder)

The email, the workbook and the mail machinery are the finance report's (`estatehub.reports`): a
digest is a `Report`, sent by `finance.message`, written by `finance.write`, recorded as sent for
the supervisors' page. Everything in it is as the mart keeps it: masked names, masked phones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from estatehub.health.reports import record_report_sent
from estatehub.money import yuan
from estatehub.reports import i18n
from estatehub.reports.finance import HTML_LIMIT, Report, message, render, write
from estatehub.reports.workbook import add_sheet, new_workbook, to_bytes
from estatehub.warehouse.engine import Warehouse
from estatehub.worklists.assignees import Assignees, Person
from estatehub.worklists.lists import LISTS
from estatehub.worklists.tables import mart_work_item, mart_work_list_build


class NoWorkLists(LookupError):
    """The work lists were not built as of that day."""


@dataclass(frozen=True)
class ListSection:
    name: str
    items: list[Any]

    @property
    def late(self) -> int:
        return sum(1 for x in self.items if x.days_left < 0)


def read_items(conn: Connection, day: date) -> list[Any]:
    """The items of the latest build, which must be of `day`, most urgent first within each list."""
    b = mart_work_list_build.c
    built_as_of = conn.execute(
        select(b.as_of_on).order_by(b.built_at.desc(), b.build_id.desc()).limit(1)
    ).scalar_one_or_none()
    if built_as_of != day:
        last = f"were last built as of {built_as_of}" if built_as_of else "were never built"
        raise NoWorkLists(f"the work lists {last}, not as of {day}: run `estatehub worklists build --date {day}` first")
    w = mart_work_item.c
    return conn.execute(
        select(mart_work_item).order_by(w.list_name, w.days_left, w.amount_fen.desc().nulls_last(), w.item_key)
    ).all()


def build(person: Person, items: list[Any], day: date) -> Report:
    lang = person.language
    L = i18n.digest_labels(lang)  # noqa: N806 - the labels, as in the template
    sections = [ListSection(name, [x for x in items if x.list_name == name]) for name in LISTS]
    count, late = len(items), sum(s.late for s in sections)
    subject = (
        L["subject"].format(day=day, name=person.name, count=count, late=late)
        if items
        else L["subject_clean"].format(day=day, name=person.name)
    )
    scope = (
        L["scope_all"] if person.sees_all else L["scope_projects"].format(projects=", ".join(sorted(person.projects)))
    )
    html = render(
        "digest.html.j2",
        L=L,
        lang=lang,
        day=day,
        person=person,
        scope=scope,
        sections=sections,
        count=count,
        list_name=lambda name: i18n.list_name(lang, name),
        days=lambda n: _days(L, n),
        yuan=yuan,
        limit=HTML_LIMIT,
    )
    return Report(
        lang,
        day,
        subject,
        _text(person, sections, day),
        html,
        _workbook(sections, lang),
        L["attachment"].format(day=day),
    )


def _days(labels: dict[str, str], n: int) -> str:
    if n == 0:
        return labels["due_today"]
    if abs(n) == 1:
        return labels["day_late" if n < 0 else "day_left"]
    return labels["days_late"].format(n=-n) if n < 0 else labels["days_left"].format(n=n)


def _text(person: Person, sections: list[ListSection], day: date) -> str:
    L = i18n.digest_labels(person.language)  # noqa: N806
    lines = [f"{L['title']} {day}", L["greeting"].format(name=person.name, day=day), ""]
    if not any(s.items for s in sections):
        lines.append(L["nothing"])
    for s in sections:
        if not s.items:
            continue
        lines.append(f"{i18n.list_name(person.language, s.name)}: {len(s.items)} ({L['late']} {s.late})")
        for x in s.items[:HTML_LIMIT]:
            lines.append(
                f"  - {_days(L, x.days_left)} · {x.deadline_on} · {x.contract_no or ''} · {x.house_id or ''} · "
                f"{x.buyer_masked or ''} · {x.phone_masked or ''} · {x.what or ''}"
                + (f" · {yuan(x.amount_fen)}" if x.amount_fen is not None else "")
            )
        if len(s.items) > HTML_LIMIT:
            lines.append("  " + L["more"].format(n=len(s.items) - HTML_LIMIT))
    lines += ["", L["footer"]]
    return "\n".join(lines)


def _workbook(sections: list[ListSection], lang: str) -> bytes:
    L = i18n.digest_labels(lang)  # noqa: N806
    book = new_workbook()
    add_sheet(
        book,
        L["sheet_summary"],
        [(L["list"], "text"), (L["item_count"], "int"), (L["late"], "int")],
        [(i18n.list_name(lang, s.name), len(s.items), s.late) for s in sections],
    )
    columns = [
        (L["days"], "int"),
        (L["deadline"], "date"),
        (L["project"], "text"),
        (L["contract"], "text"),
        (L["unit"], "text"),
        (L["buyer"], "text"),
        (L["phone"], "text"),
        (L["what"], "text"),
        (L["amount"], "yuan"),
        (L["since"], "date"),
        (L["first_listed"], "date"),
        (L["detail"], "text"),
    ]
    for s in sections:
        add_sheet(
            book,
            i18n.list_name(lang, s.name),
            columns,
            [
                (
                    x.days_left,
                    x.deadline_on,
                    x.project_code,
                    x.contract_no,
                    x.house_id,
                    x.buyer_masked,
                    x.phone_masked,
                    x.what,
                    x.amount_fen,
                    x.since_on,
                    x.first_listed_on,
                    x.detail,
                )
                for x in s.items
            ],
        )
    return to_bytes(book)


def build_digests(warehouse: Warehouse, day: date, assignees: Assignees) -> dict[str, tuple[Person, Report]]:
    """person id → (person, the digest with only their items)."""
    with warehouse.engine.connect() as conn:
        items = read_items(conn, day)
    return {p.id: (p, build(p, assignees.items_for(p, items), day)) for p in assignees.people}


def digest_stem(person: Person, day: date) -> str:
    return f"digest_{day}_{person.id}"


def write_digests(digests: dict[str, tuple[Person, Report]], folder: Path) -> list[Path]:
    return [
        path
        for person, report in digests.values()
        for path in write(report, folder, stem=digest_stem(person, report.day))
    ]


def send_digests(
    warehouse: Warehouse,
    day: date,
    assignees: Assignees,
    *,
    send: Callable[[EmailMessage], Any],
    out: Path | None = None,
) -> list[str]:
    """Send each person their digest of `day` (also when they have nothing to do); return their ids."""
    sent = []
    for person, report in build_digests(warehouse, day, assignees).values():
        if out is not None:
            write(report, out, stem=digest_stem(person, day))
        send(message(report, sender=assignees.sender, recipients=(person.email,)))
        record_report_sent(
            warehouse,
            f"digest {day} {person.id} ({person.language})",
            recipients=1,
            path=str(out / f"{digest_stem(person, day)}.html") if out is not None else None,
        )
        sent.append(person.id)
    return sent
