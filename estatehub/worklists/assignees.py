"""Who gets which items: a file mapping projects to specialists, and supervisors who see everything.

    people = load_assignees()                  # config/assignees.yaml, or the installation's own file
    mine = people.items_for(person, items)     # a specialist's projects; a supervisor's: all

A mistake in the file is an `AssigneesError` naming its place; a project no specialist covers is not
an error (its items go to the supervisors) but `uncovered` names it so the build can say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from estatehub import settings
from estatehub.errors import UsageError
from estatehub.reports import i18n
from estatehub.settings import CONFIG_DIR, read_yaml

DEFAULT_PATH = CONFIG_DIR / "assignees.yaml"
ROLES = ("specialist", "supervisor")
PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # also the digest's file name
T = TypeVar("T")


class AssigneesError(UsageError):
    """The assignees file cannot be used."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    language: str
    role: str
    projects: frozenset[str] = frozenset()

    @property
    def sees_all(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class Assignees:
    sender: str
    people: tuple[Person, ...]

    def items_for(self, person: Person, items: Iterable[T]) -> list[T]:
        """The items of `person`: all for a supervisor, those of the person's projects for a specialist."""
        if person.sees_all:
            return list(items)
        return [x for x in items if getattr(x, "project_code", None) in person.projects]

    def uncovered(self, projects: Iterable[str | None]) -> list[str]:
        """Projects with items that no specialist covers (only the supervisors see them); None: unknown."""
        covered = {p for person in self.people for p in person.projects}
        return sorted({p or "?" for p in projects if p not in covered})


def load_assignees(path: Path | None = None) -> Assignees:
    path = path or DEFAULT_PATH
    data = read_yaml(path, "the assignees file", AssigneesError)
    if not isinstance(data, dict) or not isinstance(data.get("people"), list) or not data["people"]:
        raise AssigneesError(f"{path}: expected a mapping with `people`, a list of persons (id, email, role ...)")
    people = [_person(entry, f"{path}: people[{i}]") for i, entry in enumerate(data["people"])]
    seen: set[str] = set()
    for person in people:
        if person.id in seen:
            raise AssigneesError(f"{path}: the id {person.id!r} is given to two persons; each needs its own")
        seen.add(person.id)
    if not any(p.sees_all for p in people):
        raise AssigneesError(f"{path}: expected at least one supervisor (role: supervisor), who sees every item")
    sender = data.get("sender") or settings.MAIL_FROM
    if not isinstance(sender, str) or "@" not in sender:
        raise AssigneesError(f"{path}: sender must be an e-mail address, got {sender!r}")
    return Assignees(sender, tuple(people))


def _person(entry: Any, where: str) -> Person:
    if not isinstance(entry, dict):
        raise AssigneesError(f"{where} must be a mapping with id, email, language, role and projects")
    person_id, email = entry.get("id"), entry.get("email")
    if not isinstance(person_id, str) or not PERSON_ID.fullmatch(person_id):
        raise AssigneesError(
            f"{where}.id must be a short name for the person (letters, digits, '.', '_', '-'), got {person_id!r}"
        )
    if not isinstance(email, str) or "@" not in email:
        raise AssigneesError(f"{where}.email must be an e-mail address, got {email!r}")
    language = entry.get("language", "zh-CN")
    if language not in i18n.LANGUAGES:
        raise AssigneesError(f"{where}.language must be one of {', '.join(i18n.LANGUAGES)}, got {language!r}")
    role = entry.get("role")
    if role not in ROLES:
        raise AssigneesError(f"{where}.role must be one of {', '.join(ROLES)}, got {role!r}")
    projects = entry.get("projects") or []
    if not isinstance(projects, Sequence) or isinstance(projects, str) or not all(isinstance(p, str) for p in projects):
        raise AssigneesError(f"{where}.projects must be a list of project codes, got {projects!r}")
    if role == "specialist" and not projects:
        raise AssigneesError(f"{where}: a specialist needs the projects whose items they work (projects: [P01, ...])")
    return Person(person_id, str(entry.get("name") or person_id), email, language, role, frozenset(projects))
