"""The simulated world: projects, units, buyers and the whole life of every sale, from a seed.

    info = generate_world("var/world.sqlite", units=300, seed=7)
    with open_world(info.path) as world:
        doc = world.get_doc("YS2025P01000011")
        view = contract_as_of(doc, datetime(2025, 6, 1, tzinfo=UTC))

See `store` for the file's tables, `view` for cutting a contract at a moment, `truth` for the planted
irregularities and `sales` for the rates and delays of the simulated processes.
"""

from sandbox.world.generate import (
    DEFAULT_MONTHS,
    DEFAULT_START_ON,
    GENERATOR_VERSION,
    WorldInfo,
    ensure_world,
    generate_world,
)
from sandbox.world.inventory import InventoryError
from sandbox.world.store import GroundTruth, WorldStore, WorldStoreError, open_world, world_digest
from sandbox.world.truth import KINDS as GROUND_TRUTH_KINDS
from sandbox.world.view import contract_as_of, contract_summary

__all__ = [
    "DEFAULT_MONTHS",
    "DEFAULT_START_ON",
    "GENERATOR_VERSION",
    "GROUND_TRUTH_KINDS",
    "GroundTruth",
    "InventoryError",
    "WorldInfo",
    "WorldStore",
    "WorldStoreError",
    "contract_as_of",
    "contract_summary",
    "ensure_world",
    "generate_world",
    "open_world",
    "world_digest",
]
