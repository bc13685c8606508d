"""The housing trading network (网签备案系统) of the sandbox: `TradingNetworkServer`."""

from sandbox.trading_network.server import TradingNetworkServer

__all__ = ["TradingNetworkServer"]
