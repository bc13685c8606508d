"""Connectors of the banks and the provident-fund centre: signed loan-progress APIs, loan lists,
collection-account statements. No Airflow imports; see `client.BankClient` for the interface.
"""

from __future__ import annotations

from typing import Any

from connectors.banks.client import BankClient


def make_client(code: str, base_url: str, *, app_id: str, secret: str, **options: Any) -> BankClient:
    """The adapter of bank `code` (`icbc`, `ccb`, `cmb`, `hpf`), talking to `base_url`.

    `options`: `timeout`, `retry` (a `connectors.http.RetryPolicy`), `page_size`; for `hpf` also
    `folder` (where the daily loan lists are downloaded).
    """
    from connectors.banks.ccb import CcbClient
    from connectors.banks.cmb import CmbClient
    from connectors.banks.hpf import HpfClient
    from connectors.banks.icbc import IcbcClient

    adapters: dict[str, type[BankClient]] = {"icbc": IcbcClient, "ccb": CcbClient, "cmb": CmbClient, "hpf": HpfClient}
    if code not in adapters:
        raise ValueError(f"expected a bank code among {', '.join(adapters)}, got {code!r}")
    return adapters[code](base_url, app_id=app_id, secret=secret, **options)  # type: ignore[call-arg]


__all__ = ["BankClient", "make_client"]
