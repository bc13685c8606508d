"""Fast draws from a `random.Random`: the generator makes millions, and `randrange` is slow Python.

Each is one `random()` call scaled down (bias below 2**-40 for the small ranges used here), so a
sequence of draws stays a pure function of the RNG's seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def below(rng: random.Random, count: int) -> int:
    """A whole number in [0, count)."""
    return int(rng.random() * count)


def between(rng: random.Random, low: int, high: int) -> int:
    """A whole number in [low, high], both ends included."""
    return low + int(rng.random() * (high - low + 1))


def pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]
