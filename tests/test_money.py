import doctest

import pytest

from estatehub import money
from estatehub.money import wan, yuan


def test_the_examples_in_the_docstring_hold():
    assert doctest.testmod(money).failed == 0


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (None, "0.00"),
        (0, "0.00"),
        (1, "0.01"),
        (-1, "-0.01"),
        (100, "1.00"),
        (9_007_199_254_740_993, "90,071,992,547,409.93"),
    ],
)
def test_yuan_is_exact_on_integers(fen, text):
    assert yuan(fen) == text  # the last case is past a float's 53 bits: a float would print ...09.92


@pytest.mark.parametrize(
    ("fen", "places", "text"),
    [(4_999, 2, "0.00"), (5_000, 2, "0.01"), (1_234_500_000, 0, "1,235"), (-5_000, 2, "-0.01"), (None, 2, "0.00")],
)
def test_wan_rounds_half_up(fen, places, text):
    assert wan(fen, places) == text
