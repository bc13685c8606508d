"""Buyers: Chinese names, resident ID numbers, phones, companies and passport holders.

Every identifier is valid by its standard and clearly fake: resident ID numbers carry a GB 11643
check digit over an area code starting with 99 (no real area code does); credit codes carry a
GB 32100 check character over the same fake area; phones are 1990xxxxxxx; passports are X99xxxxxx.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import date, timedelta

from connectors.identity import ID_TYPE_RESIDENT, ID_TYPE_USCC, USCC_CHARSET, id_check_char, uscc_check_char
from sandbox.world.dice import below, between, pick
from sandbox.world.names import (
    COMPANY_TRADES,
    COMPANY_WORDS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    PASSPORT_NAMES,
    SURNAMES,
)

ID_TYPE_PASSPORT = "护照"
SHARE_WHOLE = "100.00"
SHARE_HALF = "50.00"

_SURNAME_CHOICES = [name for name, _ in SURNAMES]
_SURNAME_CUMULATIVE = list(itertools.accumulate(weight for _, weight in SURNAMES))
_PHONE_SPACE = 10_000_000
_PHONE_STRIDE = 7_654_321  # coprime to 10**7: distinct serials give distinct phones
_PHONE_OFFSET = 3_141_593
_PASSPORT_SPACE = 1_000_000
_PASSPORT_STRIDE = 654_323  # coprime to 10**6: distinct serials give distinct passports
_PASSPORT_OFFSET = 271_828
_OLDEST_BIRTH = date(1962, 1, 1)
_BIRTH_SPAN_DAYS = (date(2001, 12, 31) - _OLDEST_BIRTH).days


def person_name(rng: random.Random, male: bool) -> str:
    surname = rng.choices(_SURNAME_CHOICES, cum_weights=_SURNAME_CUMULATIVE)[0]
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    given = pick(rng, pool) if rng.random() < 0.3 else pick(rng, pool) + pick(rng, pool)
    return surname + given


def birth_date(rng: random.Random, near: date | None = None) -> date:
    """A buyer's birth date (1962–2001), or one within five years of `near` (a spouse)."""
    if near is None:
        return _OLDEST_BIRTH + timedelta(days=below(rng, _BIRTH_SPAN_DAYS))
    return near + timedelta(days=between(rng, -5 * 365, 5 * 365))


def resident_id(rng: random.Random, birth: date, male: bool) -> str:
    """An 18-character resident ID number: fake area 99xxxx, birth date, sex digit, check digit."""
    sequence = below(rng, 500) * 2 + (1 if male else 0)
    first17 = f"99{below(rng, 10_000):04d}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def credit_code(rng: random.Random) -> str:
    """A unified social credit code of an enterprise (91) registered in a fake area 99xxxx."""
    organisation = "".join(pick(rng, USCC_CHARSET) for _ in range(9))
    first17 = f"9199{below(rng, 10_000):04d}{organisation}"
    return first17 + uscc_check_char(first17)


def phone_number(serial: int) -> str:
    """A mobile number 1990xxxxxxx, distinct for distinct serials below ten million."""
    return f"1990{(serial * _PHONE_STRIDE + _PHONE_OFFSET) % _PHONE_SPACE:07d}"


def passport_number(serial: int) -> str:
    """A passport number X99xxxxxx, distinct for distinct serials below a million (62,500 units): drawn at
    random, two holders of the same number turned up among the 996 passport contracts of a world of 100,000
    (generator 3), one person to the warehouse, two to the network (decision 0036)."""
    return f"X99{(serial * _PASSPORT_STRIDE + _PASSPORT_OFFSET) % _PASSPORT_SPACE:06d}"


def company_name(rng: random.Random) -> str:
    first, second = rng.sample(COMPANY_WORDS, 2)
    return f"深圳市{first}{second}{pick(rng, COMPANY_TRADES)}有限公司"


def _buyer(name: str, id_type: str, id_number: str, phone: str | None, share: str, primary: bool) -> dict:
    return {
        "name": name,
        "id_type": id_type,
        "id_number": id_number,
        "phone": phone,
        "share": share,
        "is_primary": primary,
    }


def resident(
    rng: random.Random,
    phone_serial: Callable[[], int],
    *,
    male: bool,
    share: str,
    primary: bool,
    born_near: date | None = None,
) -> dict:
    birth = birth_date(rng, born_near)
    number = resident_id(rng, birth, male)
    return _buyer(person_name(rng, male), ID_TYPE_RESIDENT, number, phone_number(phone_serial()), share, primary)


def spouse_of(rng: random.Random, partner: dict, phone_serial: Callable[[], int]) -> dict:
    """A co-buyer of the opposite sex and a similar age, holding half; the partner's share becomes half."""
    partner["share"] = SHARE_HALF
    number = partner["id_number"]
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    partner_male = int(number[16]) % 2 == 1
    return resident(rng, phone_serial, male=not partner_male, share=SHARE_HALF, primary=False, born_near=born)


def buyers_for_sale(rng: random.Random, phone_serial: Callable[[], int], *, usage: str) -> list[dict]:
    """The buyers of one sale: mostly one resident (30% with a spouse), ~3% a company, a few passports."""
    company_rate = 0.25 if usage == "商业" else 0.03
    draw = rng.random()
    if draw < company_rate:
        phone = phone_number(phone_serial()) if rng.random() < 0.6 else None
        return [_buyer(company_name(rng), ID_TYPE_USCC, credit_code(rng), phone, SHARE_WHOLE, True)]
    if draw < company_rate + 0.01:
        below(rng, 1_000_000)  # the number was once drawn here: the draw stays, so that no later one moves
        serial = phone_serial()
        number, phone = passport_number(serial), phone_number(serial)
        return [_buyer(pick(rng, PASSPORT_NAMES), ID_TYPE_PASSPORT, number, phone, SHARE_WHOLE, True)]
    primary = resident(rng, phone_serial, male=rng.random() < 0.55, share=SHARE_WHOLE, primary=True)
    if rng.random() < 0.30:
        return [primary, spouse_of(rng, primary, phone_serial)]
    return [primary]


def renamed_buyers(rng: random.Random, buyers: list[dict], phone_serial: Callable[[], int]) -> list[dict] | None:
    """The buyers after 增减权益人: a spouse added or removed, or the primary changed.

    None when the primary buyer is not a resident (companies and passport holders are not renamed here).
    """
    if buyers[0]["id_type"] != ID_TYPE_RESIDENT:
        return None
    current = [dict(buyer) for buyer in buyers]
    if len(current) == 1:
        return [current[0], spouse_of(rng, current[0], phone_serial)]
    if rng.random() < 0.6:
        sole = current[0]
        sole["share"] = SHARE_WHOLE
        return [sole]
    first, second = current
    first["is_primary"], second["is_primary"] = False, True
    return [second, first]
