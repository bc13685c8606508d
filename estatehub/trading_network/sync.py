"""The trading-network sync: what the Airflow task and `python -m estatehub sync trading-network` run.

    result = sync_trading_network(client, warehouse)             # incremental from the stored cursor
    result = sync_trading_network(client, warehouse, full=True)  # every contract again

The contracts are one stream of the one runner (`estatehub.sync.stream.run_stream`: cursor with
look-back, one transaction per batch with its cursor, read-ahead, quarantine threshold, the run
record); `estatehub.trading_network.load.ContractStream` says how a contract is keyed, typed and
written.
"""

from __future__ import annotations

from estatehub.settings import TRADING_NETWORK_SYNC, SyncSettings
from estatehub.sync.runs import SyncResult
from estatehub.sync.stream import run_stream
from estatehub.trading_network.load import ContractSource, ContractStream
from estatehub.warehouse.engine import Warehouse


def sync_trading_network(
    client: ContractSource,
    warehouse: Warehouse,
    *,
    full: bool = False,
    settings: SyncSettings = TRADING_NETWORK_SYNC,
    run_id: str | None = None,
    read_ahead: bool = True,
) -> SyncResult:
    """Bring the trading network's contracts into the warehouse (see `run_stream` for the steps and
    what it raises)."""
    return run_stream(
        ContractStream(client), warehouse, settings=settings, full=full, run_id=run_id, read_ahead=read_ahead
    )
