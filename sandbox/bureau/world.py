"""The bureau site's simulated history: which notices exist when, what changes, and what goes wrong.

`BureauWorld.generate(seed)` is a pure function of the seed (and of the period): the notices published
before the period (the site as the monitor first sees it), the notices published during it, the real
changes (edited text, replaced attachments, withdrawals) and the incidents that are not changes (the
list markup redesigned, the site down, a maintenance page served with status 200). The ground truth
(`truth`) lists every real change with its kind, notice and moment; a server shows the world as it
stands at its simulated clock (`notice_at`, `listed`, `incident_at`).

Times are aware datetimes in Beijing time. Real changes happen on workdays in office hours, never on
the hour (the monitor checks on the hour), and two changes of one notice are at least two days apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sandbox.bureau.notices import TEMPLATES, AttachmentSpec, Edit, NoticeTemplate, render_lines
from sandbox.world.clock import BUSINESS_TZ

PERIOD_START = datetime(2026, 3, 2, tzinfo=BUSINESS_TZ)  # a Monday
DEFAULT_DAYS = 28
FIRST_PUBLISHED_ON = date(2026, 1, 5)
NEW_NOTICES = 6
EDITS = 7
ATTACHMENT_REPLACEMENTS = 3
WITHDRAWALS = 2
MIN_GAP = timedelta(days=2)

CHANNELS = {"tzgg": "通知公告", "zcfg": "政策法规"}
CHANGE_KINDS = ("new", "changed", "attachment_changed", "withdrawn")

# a list item of the 政策法规 channel that links to another government site (through a redirect)
EXTERNAL_ITEM_TITLE = "转发广东省住房和城乡建设厅关于进一步规范房地产开发企业经营行为的通知"
EXTERNAL_ITEM_PATH = "/xxgk/zcfg/link/gdzjt_2026_5.html"
EXTERNAL_ITEM_ON = date(2026, 2, 24)


@dataclass(frozen=True)
class TruthChange:
    """A real change of the site: what the monitor must report."""

    kind: str
    channel: str
    notice_id: str
    path: str
    title: str
    at: datetime
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "notice_id": self.notice_id,
            "path": self.path,
            "title": self.title,
            "at": self.at.isoformat(),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Incident:
    """Something that is not a change: `redesign` (from `start` on), `outage`, `maintenance` (a window)."""

    kind: str
    start: datetime
    end: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class AttachmentState:
    index: int
    spec: AttachmentSpec
    params: dict[str, str]
    path: str
    version_at: datetime

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[1]

    def lines(self) -> list[str]:
        return render_lines(self.spec.lines, self.params)


@dataclass(frozen=True)
class NoticeState:
    """A notice as the site shows it at one moment."""

    notice_id: str
    channel: str
    template: NoticeTemplate
    path: str
    doc_number: str | None
    published_at: datetime
    params: dict[str, str]
    attachments: tuple[AttachmentState, ...]
    version_at: datetime

    @property
    def title(self) -> str:
        return self.template.title

    @property
    def office(self) -> str:
        return self.template.office

    def paragraphs(self) -> list[str]:
        return render_lines(self.template.paragraphs, self.params)


@dataclass
class _Event:
    at: datetime
    kind: str  # changed | attachment_changed | withdrawn
    edit: Edit | None = None
    attachment: int | None = None
    soft: bool = False  # a withdrawal shown as a 200 page saying so (a "soft 404"), not as a 404


@dataclass
class Notice:
    notice_id: str
    template: NoticeTemplate
    published_at: datetime
    doc_number: str | None
    attachment_paths: list[str]
    events: list[_Event] = field(default_factory=list)

    @property
    def channel(self) -> str:
        return self.template.channel

    @property
    def path(self) -> str:
        return f"/xxgk/{self.channel}/content/{self.notice_id}.html"

    @property
    def withdrawn_at(self) -> datetime | None:
        return next((e.at for e in self.events if e.kind == "withdrawn"), None)

    def soft_withdrawn_at(self, moment: datetime) -> bool:
        """True when the notice is withdrawn at `moment` and the site says so with a 200 page."""
        return any(e.kind == "withdrawn" and e.soft and e.at <= moment for e in self.events)

    def last_event_at(self) -> datetime:
        return max([self.published_at, *(e.at for e in self.events)])

    def state_at(self, moment: datetime) -> NoticeState | None:
        """The notice at `moment`; None before it is published or once it is withdrawn."""
        if moment < self.published_at:
            return None
        params = dict(self.template.params)
        version_at = self.published_at
        attachments = [
            AttachmentState(i, spec, dict(spec.params), self.attachment_paths[i], self.published_at)
            for i, spec in enumerate(self.template.attachments)
        ]
        for event in sorted(self.events, key=lambda e: e.at):
            if event.at > moment:
                break
            if event.kind == "withdrawn":
                return None
            if event.kind == "changed" and event.edit is not None:
                params.update(event.edit.changes)
                version_at = event.at
            elif event.kind == "attachment_changed" and event.attachment is not None:
                old = attachments[event.attachment]
                path = old.path
                if old.spec.new_url_on_replace:
                    path = attachment_path(self.notice_id, event.at, old.spec.fmt, event.attachment)
                attachments[event.attachment] = replace(
                    old, params={**old.params, **old.spec.replacement}, path=path, version_at=event.at
                )
                version_at = event.at
        return NoticeState(
            notice_id=self.notice_id,
            channel=self.channel,
            template=self.template,
            path=self.path,
            doc_number=self.doc_number,
            published_at=self.published_at,
            params=params,
            attachments=tuple(attachments),
            version_at=version_at,
        )


def attachment_path(notice_id: str, moment: datetime, fmt: str, index: int) -> str:
    """`/attachment/<notice number>/P0<yyyymmddHHMMSS><nnn>.<fmt>`, the usual government CMS naming."""
    number = notice_id.removeprefix("post_")
    stamp = moment.strftime("%Y%m%d%H%M%S")
    return f"/attachment/{number}/P0{stamp}{index + 1:03d}.{fmt}"


@dataclass
class BureauWorld:
    seed: int
    start: datetime
    days: int
    notices: list[Notice]
    truth: list[TruthChange]
    incidents: list[Incident]

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @classmethod
    def generate(cls, seed: int, *, start: datetime = PERIOD_START, days: int = DEFAULT_DAYS) -> BureauWorld:
        if start.tzinfo is None:
            raise ValueError(f"expected a timezone-aware period start, got the naive {start.isoformat()}")
        if days < 14:
            raise ValueError(f"expected a period of at least 14 days (room for every kind of change), got {days}")
        return _Generator(seed, start.astimezone(BUSINESS_TZ), days).run()

    # -- the site at a moment --------------------------------------------------------------------------

    def notice(self, notice_id: str) -> Notice | None:
        return next((n for n in self.notices if n.notice_id == notice_id), None)

    def notice_at(self, notice_id: str, moment: datetime) -> NoticeState | None:
        notice = self.notice(notice_id)
        return notice.state_at(moment) if notice else None

    def soft_withdrawn(self, notice_id: str, moment: datetime) -> bool:
        notice = self.notice(notice_id)
        return notice is not None and notice.soft_withdrawn_at(moment)

    def listed(self, channel: str, moment: datetime) -> list[NoticeState]:
        """The notices of a channel's list at `moment`, newest first."""
        states = (n.state_at(moment) for n in self.notices if n.channel == channel)
        return sorted((s for s in states if s), key=lambda s: (s.published_at, s.notice_id), reverse=True)

    def attachment_at(self, path: str, moment: datetime) -> tuple[NoticeState, AttachmentState] | None:
        number = path.split("/")[2] if path.count("/") >= 3 else ""
        state = self.notice_at(f"post_{number}", moment)
        if state is None:
            return None
        found = next((a for a in state.attachments if a.path == path), None)
        return (state, found) if found else None

    def incident_at(self, moment: datetime) -> Incident | None:
        """The outage or maintenance window at `moment`, if any (a redesign is not an outage)."""
        return next((i for i in self.incidents if i.kind != "redesign" and i.covers(moment)), None)

    def redesigned_at(self, moment: datetime) -> bool:
        return any(i.kind == "redesign" and i.covers(moment) for i in self.incidents)

    def truth_until(self, moment: datetime) -> list[TruthChange]:
        return [change for change in self.truth if change.at <= moment]


class _Generator:
    def __init__(self, seed: int, start: datetime, days: int) -> None:
        self.seed = seed
        self.start = start
        self.days = days
        self.rng = random.Random(f"estatehub-bureau:{seed}")

    def run(self) -> BureauWorld:
        notices = self._publish()
        incidents = self._incidents()
        self._attachment_replacements(notices)
        self._edits(notices)
        self._withdrawals(notices)
        truth = self._truth(notices)
        return BureauWorld(self.seed, self.start, self.days, notices, truth, incidents)

    # -- moments -----------------------------------------------------------------------------------

    def _workdays(self, first: date, last: date) -> list[date]:
        days = []
        day = first
        while day <= last:
            if day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
        return days

    def _office_moment(self, day: date) -> datetime:
        minute = self.rng.randrange(9 * 60, 18 * 60)
        if minute % 60 == 0:
            minute += self.rng.randrange(1, 60)
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=BUSINESS_TZ)

    def _period_day(self, offset: int) -> date:
        return (self.start + timedelta(days=offset)).date()

    def _event_moment(self, notice: Notice, first_offset: int = 1) -> datetime | None:
        """A workday moment in the period, two days clear of the notice's other moments; None if full."""
        days = self._workdays(self._period_day(first_offset), self._period_day(self.days - 2))
        self.rng.shuffle(days)
        taken = [notice.published_at, *(e.at for e in notice.events)]
        for day in days:
            moment = self._office_moment(day)
            if moment > notice.published_at and all(abs(moment - other) >= MIN_GAP for other in taken):
                return moment
        return None

    # -- steps -------------------------------------------------------------------------------------

    def _publish(self) -> list[Notice]:
        templates = list(TEMPLATES)
        self.rng.shuffle(templates)
        before = self._workdays(FIRST_PUBLISHED_ON, self._period_day(-3))
        during = self._workdays(self._period_day(1), self._period_day(self.days - 5))
        plan: list[tuple[datetime, NoticeTemplate]] = []
        for i, template in enumerate(templates):
            pool = during if i >= len(templates) - NEW_NOTICES else before
            plan.append((self._office_moment(self.rng.choice(pool)), template))
        plan.sort(key=lambda item: item[0])
        notices = []
        number = 11_520_000
        doc_counts: dict[str, int] = {}
        for published_at, template in plan:
            number += self.rng.randint(37, 900)
            notice_id = f"post_{number}"
            doc_number = None
            if template.doc_prefix:
                doc_counts[template.doc_prefix] = doc_counts.get(template.doc_prefix, 0) + 1
                doc_number = f"{template.doc_prefix}〔{published_at.year}〕{doc_counts[template.doc_prefix]}号"
            paths = [
                attachment_path(notice_id, published_at, spec.fmt, i) for i, spec in enumerate(template.attachments)
            ]
            notices.append(Notice(notice_id, template, published_at, doc_number, paths))
        return notices

    def _incidents(self) -> list[Incident]:
        outage_day = self._period_day(self.rng.randint(4, 7))
        redesign_day = self._period_day(self.rng.randint(9, 12))
        maintenance_day = self._period_day(self.rng.randint(15, min(19, self.days - 3)))
        outage_start = datetime.combine(outage_day, time(7, self.rng.randrange(10, 50)), tzinfo=BUSINESS_TZ)
        redesign_at = datetime.combine(redesign_day, time(10, self.rng.randrange(10, 50)), tzinfo=BUSINESS_TZ)
        maintenance_start = datetime.combine(maintenance_day, time(11, self.rng.randrange(10, 50)), tzinfo=BUSINESS_TZ)
        return [
            Incident("outage", outage_start, outage_start + timedelta(hours=8)),
            Incident("redesign", redesign_at),
            Incident("maintenance", maintenance_start, maintenance_start + timedelta(hours=2)),
        ]

    def _edits(self, notices: list[Notice]) -> None:
        candidates = [n for n in notices if n.template.edits]
        wanted = {"number": 3, "date": 2, "sentence": 2}
        assert sum(wanted.values()) == EDITS
        done = dict.fromkeys(wanted, 0)
        # first edits first (an edit applies to the text its predecessors left), kinds until each is covered
        queue = [(n, i) for n in candidates for i in range(len(n.template.edits))]
        queue.sort(key=lambda item: (item[1], self.rng.random()))
        for notice, index in queue:
            edit = notice.template.edits[index]
            if done[edit.kind] >= wanted[edit.kind]:
                continue
            if index > 0 and sum(e.kind == "changed" for e in notice.events) < index:
                continue
            moment = self._event_moment(notice)
            if moment is None or (notice.events and moment < notice.last_event_at()):
                continue
            notice.events.append(_Event(moment, "changed", edit=edit))
            done[edit.kind] += 1
        if done != wanted:
            raise RuntimeError(f"seed {self.seed}: could not place the edits {wanted}, placed {done}")

    def _attachment_replacements(self, notices: list[Notice]) -> None:
        with_files = [n for n in notices if any(a.replacement for a in n.template.attachments)]
        self.rng.shuffle(with_files)
        # one replaced file under a new address first, then one per format until the count is reached
        with_files.sort(key=lambda n: not any(a.new_url_on_replace for a in n.template.attachments))
        formats: set[str] = set()
        placed = 0
        for notice in with_files:
            index, spec = next((i, a) for i, a in enumerate(notice.template.attachments) if a.replacement)
            if spec.fmt in formats or placed >= ATTACHMENT_REPLACEMENTS:
                continue
            moment = self._event_moment(notice)
            if moment is None:
                continue
            notice.events.append(_Event(moment, "attachment_changed", attachment=index))
            formats.add(spec.fmt)
            placed += 1
        if placed < ATTACHMENT_REPLACEMENTS:
            raise RuntimeError(
                f"seed {self.seed}: placed {placed} of {ATTACHMENT_REPLACEMENTS} attachment replacements"
            )

    def _withdrawals(self, notices: list[Notice]) -> None:
        quiet = [n for n in notices if not n.events and n.published_at < self.start]
        chosen = self.rng.sample(quiet, WITHDRAWALS)
        for i, notice in enumerate(chosen):
            moment = self._event_moment(notice)
            if moment is None:
                raise RuntimeError(f"seed {self.seed}: no moment to withdraw {notice.notice_id}")
            notice.events.append(_Event(moment, "withdrawn", soft=i % 2 == 1))

    def _truth(self, notices: list[Notice]) -> list[TruthChange]:
        truth = []
        for notice in notices:
            if notice.published_at >= self.start:
                truth.append(self._change("new", notice, notice.published_at, "新发布"))
            for event in notice.events:
                if event.kind == "changed" and event.edit is not None:
                    detail = f"{event.edit.kind}: {event.edit.note}"
                elif event.kind == "attachment_changed" and event.attachment is not None:
                    spec = notice.template.attachments[event.attachment]
                    detail = f"{spec.fmt}: {spec.replace_note or spec.label}"
                elif event.soft:
                    detail = "撤销（页面显示“信息已撤销”，状态 200）"
                else:
                    detail = "撤销（页面删除，404）"
                truth.append(self._change(event.kind, notice, event.at, detail))
        truth.sort(key=lambda change: (change.at, change.notice_id))
        return truth

    @staticmethod
    def _change(kind: str, notice: Notice, moment: datetime, detail: str) -> TruthChange:
        return TruthChange(kind, notice.channel, notice.notice_id, notice.path, notice.template.title, moment, detail)
