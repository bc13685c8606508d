"""The city's rules as data (`config/city_rules.yaml`): filing deadline, refund term and registration
term where a contract states none, the fees a buyer pays at handover for others and the term to pay them
over. A mistake in the file is a `CityRulesError` naming its place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from estatehub.errors import UsageError
from estatehub.settings import CONFIG_DIR, read_yaml

DEFAULT_PATH = CONFIG_DIR / "city_rules.yaml"
FILING_MODES = ("within_days", "at_signing")


class CityRulesError(UsageError):
    """A city rules file that cannot be used."""


DEED_TAX, MAINTENANCE_FUND, REGISTRATION_FEE = "契税", "维修基金", "登记费"
HOME_USAGE = "住宅"


@dataclass(frozen=True)
class DeedTaxRule:
    """The deed tax on a home a person buys, from a day on: a small home (up to `small_up_to` m², in
    hundredths) pays `small_bp`; a larger one `first_home_bp` when it is the family's only home, else
    `second_home_bp` (basis points of the price without VAT)."""

    from_on: date
    small_up_to: int
    small_bp: int
    first_home_bp: int
    second_home_bp: int


@dataclass(frozen=True)
class FeeSchedule:
    """What a buyer pays the developer at handover for others (契税, 维修基金, 登记费; decisions 0028 and
    0036): the receivables mart adds a line of each to a contract handed over."""

    maintenance_fund_fen_per_m2: int  # 首期维修资金 per m² of the as-built area
    registration_fen: dict[str, int]  # by the unit's usage; `other` for any usage not named
    deed_tax_rules: tuple[DeedTaxRule, ...]  # newest first
    deed_tax_other_bp: int  # a company's purchase, or a unit that is no home
    vat_bp: int  # the price includes VAT; the deed tax is levied on the price without it

    def maintenance_fund(self, area_hundredths: int) -> int:
        return (area_hundredths * self.maintenance_fund_fen_per_m2 + 50) // 100

    def registration_fee(self, usage: str | None) -> int:
        return self.registration_fen.get(usage or "", self.registration_fen["other"])

    def deed_tax_rates(self, *, area_hundredths: int, usage: str | None, company: bool, on: date) -> tuple[int, ...]:
        """The rates (basis points) the tax bureau may assess on the day: which of a large home's two applies
        depends on the family's other homes, which only the bureau knows (家庭住房套数)."""
        if company or usage != HOME_USAGE:
            return (self.deed_tax_other_bp,)
        rule = next((r for r in self.deed_tax_rules if r.from_on <= on), self.deed_tax_rules[-1])
        if area_hundredths <= rule.small_up_to:
            return (rule.small_bp,)
        return tuple(sorted({rule.first_home_bp, rule.second_home_bp}))

    def deed_tax(self, price_fen: int, rate_bp: int) -> int:
        """The tax at `rate_bp` on a VAT-inclusive price, to the fen (half up)."""
        exact = Decimal(price_fen) * rate_bp / (10_000 + self.vat_bp)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class CityRules:
    city: str = "深圳"
    filing_mode: str = "within_days"
    filing_days: int = 30
    refund_default_days: int = 30
    registration_default_days: int = 90
    fee_payover_days: int = 30
    # the fees collected at handover; None: the file names none, and the mart adds no fee lines
    fee_schedule: FeeSchedule | None = field(default=None, compare=False)

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
        fee_schedule=_fee_schedule(fees.get("collected_at_handover"), path),
    )


def _fee_schedule(data: Any, path: Path) -> FeeSchedule | None:
    if data is None:
        return None
    where = "fees.collected_at_handover"
    if not isinstance(data, dict):
        raise CityRulesError(f"{path}: {where} must be a mapping")
    registration = data.get("registration_fee_yuan")
    if not isinstance(registration, dict) or "other" not in registration:
        raise CityRulesError(f"{path}: {where}.registration_fee_yuan must map usages to yuan, with 'other'")
    deed = data.get("deed_tax")
    if not isinstance(deed, dict) or not isinstance(deed.get("homes"), list) or not deed["homes"]:
        raise CityRulesError(f"{path}: {where}.deed_tax must be a mapping with a list of homes rules")
    rules = []
    for index, rule in enumerate(deed["homes"]):
        at = f"{where}.deed_tax.homes[{index}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("from"), date):
            raise CityRulesError(f"{path}: {at} must be a mapping with from: a date (YYYY-MM-DD)")
        rules.append(
            DeedTaxRule(
                rule["from"],
                _hundredths(rule.get("small_up_to_m2"), path, f"{at}.small_up_to_m2"),
                _hundredths(rule.get("small_percent"), path, f"{at}.small_percent"),
                _hundredths(rule.get("first_home_percent"), path, f"{at}.first_home_percent"),
                _hundredths(rule.get("second_home_percent"), path, f"{at}.second_home_percent"),
            )
        )
    return FeeSchedule(
        maintenance_fund_fen_per_m2=_hundredths(
            data.get("maintenance_fund_yuan_per_m2"), path, f"{where}.maintenance_fund_yuan_per_m2"
        ),
        registration_fen={
            str(usage): _hundredths(yuan, path, f"{where}.registration_fee_yuan.{usage}")
            for usage, yuan in registration.items()
        },
        deed_tax_rules=tuple(sorted(rules, key=lambda r: r.from_on, reverse=True)),
        deed_tax_other_bp=_hundredths(deed.get("other_percent"), path, f"{where}.deed_tax.other_percent"),
        vat_bp=_hundredths(deed.get("vat_percent"), path, f"{where}.deed_tax.vat_percent"),
    )


def _hundredths(value: Any, path: Path, where: str) -> int:
    """`value` × 100 as a whole number ≥ 0: yuan to fen, percent to basis points, m² to hundredths."""
    try:
        number = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        number = Decimal(-1)
    if isinstance(value, bool) or value is None or number < 0 or number != number.to_integral_value():
        raise CityRulesError(f"{path}: {where} must be a number ≥ 0 with at most two decimals, got {value!r}")
    return int(number)


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
