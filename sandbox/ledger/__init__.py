"""The finance ledger's face of the world: the books a Kingdee K/3 Cloud style ERP would hold.

`sandbox.ledger.book` derives the books from a world store (deterministic; RNG seeded by (seed,
contract_no)) into a ledger store with its ground truth; `sandbox.ledger.server` serves them on
loopback as the ERP's Web API at a simulated clock, with fault injection.

    server = start_ledger_server(world_path, seed=7)   # .url, .stop(), .set_clock(moment)
"""

from sandbox.ledger.book import LEDGER_VERSION, DocList, WorldContracts, build_ledger, ensure_ledger
from sandbox.ledger.server import LOGIN_PATH, QUERY_PATH, LedgerServer, start_ledger_server

__all__ = [
    "LEDGER_VERSION",
    "LOGIN_PATH",
    "QUERY_PATH",
    "DocList",
    "LedgerServer",
    "WorldContracts",
    "build_ledger",
    "ensure_ledger",
    "start_ledger_server",
]
