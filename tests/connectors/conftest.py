"""Fixtures of the connector tests: a mocked gateway that checks every call was made, a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses
from tn_fixtures import ACCOUNT, BASE_URL, PASSWORD

from connectors.http import RetryPolicy
from connectors.trading_network import TradingNetworkClient


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """A mocked gateway that fails the test when a registered call was not made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Callable[..., TradingNetworkClient]:
    """A client whose waits are recorded instead of slept, without jitter (waits are predictable)."""

    def build(**options: Any) -> TradingNetworkClient:
        options.setdefault("retry", RetryPolicy(max_attempts=4, backoff_initial=0.5, jitter=0.0))
        return TradingNetworkClient(BASE_URL, ACCOUNT, PASSWORD, sleep=sleeps.append, **options)

    return build
