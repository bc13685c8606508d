"""The real estate bureau's website, simulated: notices that appear, change and disappear over time.

`start_bureau_server(seed=7)` serves it on loopback (`sandbox/bureau/server.py`); the history and its
ground truth come from `BureauWorld.generate(seed)` (`sandbox/bureau/world.py`).
"""

from sandbox.bureau.server import BureauServer, start_bureau_server
from sandbox.bureau.world import BureauWorld, Incident, TruthChange

__all__ = ["BureauServer", "BureauWorld", "Incident", "TruthChange", "start_bureau_server"]
