"""The manager's targets, kept in a plain file (`config/kpi_targets.yaml`), per weekly and monthly period.

    targets = load_targets()
    targets.get("week", "signings_amount_fen")    # fen, or None where the file sets no target

The file names, per period kind, the target of a KPI for the whole department and, optionally, per
project. Amounts are written in 万元 (what a manager thinks in) and kept as fen; counts as counts.
Keys: signings_units, signings_amount_wan, subscriptions_units, collections_amount_wan,
filing_rate_pct. Anything else is an error, so a typo does not silently leave a target out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from estatehub.errors import UsageError
from estatehub.settings import CONFIG_DIR, read_yaml

DEFAULT_PATH = CONFIG_DIR / "kpi_targets.yaml"
KEYS = {
    "signings_units": "signings_units",
    "signings_amount_wan": "signings_amount_fen",
    "subscriptions_units": "subscriptions_units",
    "collections_amount_wan": "collections_amount_fen",
    "filing_rate_pct": "filing_rate_pct",
}
FEN_PER_WAN = 1_000_000


class KpiTargetsError(UsageError):
    """The targets file cannot be used."""


@dataclass(frozen=True)
class Targets:
    # (period kind, project or None for the whole department) → KPI key → target (fen, count or percent)
    values: dict[tuple[str, str | None], dict[str, Decimal | int]] = field(default_factory=dict)

    def get(self, kind: str, key: str, project: str | None = None) -> Decimal | int | None:
        return self.values.get((kind, project), {}).get(key)

    def projects(self, kind: str) -> list[str]:
        """The projects the file sets targets for in `kind` periods."""
        return sorted(project for k, project in self.values if k == kind and project is not None)


def load_targets(path: Path | None = None) -> Targets:
    path = path or DEFAULT_PATH
    data = read_yaml(path, "the KPI targets file", KpiTargetsError) or {}
    if not isinstance(data, dict):
        raise KpiTargetsError(f"{path}: expected a mapping of week / month to targets, got {type(data).__name__}")
    values: dict[tuple[str, str | None], dict[str, Decimal | int]] = {}
    for kind, section in data.items():
        if kind not in ("week", "month"):
            raise KpiTargetsError(f"{path}: expected the sections week and month, got {kind!r}")
        section = section or {}
        projects = section.get("projects") or {}
        values[(kind, None)] = _read(path, f"{kind}", {k: v for k, v in section.items() if k != "projects"})
        for project, entries in projects.items():
            values[(kind, str(project))] = _read(path, f"{kind}.projects.{project}", entries or {})
    return Targets(values)


def _read(path: Path, where: str, entries: dict[str, Any]) -> dict[str, Decimal | int]:
    out: dict[str, Decimal | int] = {}
    for key, raw in entries.items():
        if key not in KEYS:
            raise KpiTargetsError(f"{path}: {where}.{key} is no KPI target; expected one of {', '.join(KEYS)}")
        try:
            number = Decimal(str(raw))
        except InvalidOperation as exc:
            raise KpiTargetsError(f"{path}: {where}.{key} must be a number, got {raw!r}") from exc
        if number < 0:
            raise KpiTargetsError(f"{path}: {where}.{key} must be 0 or more, got {raw!r}")
        if key.endswith("_wan"):
            out[KEYS[key]] = int(number * FEN_PER_WAN)
        elif key.endswith("_units"):
            out[KEYS[key]] = int(number)
        else:
            out[KEYS[key]] = number
    return out
