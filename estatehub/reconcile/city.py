"""The city's rules as data (`config/city_rules.yaml`): filing deadline, refund term and registration
term where a contract states none, and the term to pay collected fees over. A mistake in the file is a
`CityRulesError` naming its place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from estatehub.errors import UsageError
from estatehub.settings import CONFIG_DIR, read_yaml

DEFAULT_PATH = CONFIG_DIR / "city_rules.yaml"
FILING_MODES = ("within_days", "at_signing")


class CityRulesError(UsageError):
    """A city rules file that cannot be used."""


@dataclass(frozen=True)
class CityRules:
    city: str = "深圳"
    filing_mode: str = "within_days"
    filing_days: int = 30
    refund_default_days: int = 30
    registration_default_days: int = 90
    fee_payover_days: int = 30

    @property
    def filing_within_days(self) -> int:
        """Days after signing by which a contract must be filed (0: by the end of its signing day)."""
        return 0 if self.filing_mode == "at_signing" else self.filing_days


def load_city_rules(path: Path | None = None) -> CityRules:
    path = path or DEFAULT_PATH
    data = read_yaml(path, "the city rules", CityRulesError)
    if not isinstance(data, dict):
        raise CityRulesError(f"{path}: expected a mapping with city, filing and refund")
    filing = _section(data, "filing", path)
    refund = _section(data, "refund", path)
    registration = _section(data, "registration", path)
    fees = _section(data, "fees", path)
    mode = filing.get("mode", "within_days")
    if mode not in FILING_MODES:
        raise CityRulesError(f"{path}: filing.mode must be one of {', '.join(FILING_MODES)}, got {mode!r}")
    return CityRules(
        city=str(data.get("city", "")),
        filing_mode=mode,
        filing_days=_days(filing, "days", path, "filing", default=30),
        refund_default_days=_days(refund, "default_days", path, "refund", default=30),
        registration_default_days=_days(registration, "default_days", path, "registration", default=90),
        fee_payover_days=_days(fees, "pay_over_within_days", path, "fees", default=30),
    )


def _section(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise CityRulesError(f"{path}: {name} must be a mapping")
    return value


def _days(section: dict[str, Any], key: str, path: Path, where: str, *, default: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
        raise CityRulesError(f"{path}: {where}.{key} must be a whole number of days from 0 to 365, got {value!r}")
    return value
