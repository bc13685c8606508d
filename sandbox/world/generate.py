"""Generating the world file: units stream in, pairs are simulated, rows go to the store in batches.

Memory stays flat with scale: units come from a generator, each batch of pairs is simulated, written
in one transaction and dropped. Large worlds simulate batches in worker processes (each pair depends on
the seed and its index alone, so the file is the same whatever the number of workers) while the
parent writes. The file is written under a temporary name and renamed when complete, so a killed
generation never leaves a half world where a reader looks.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path

from sandbox.world.amounts import hundredths_text
from sandbox.world.clock import add_months, day_end
from sandbox.world.contracts import life_document
from sandbox.world.inventory import check_inventory, inventory_units
from sandbox.world.layout import Unit, generated_units
from sandbox.world.sales import simulate_pair
from sandbox.world.store import WorldStore, WorldStoreError, WorldWriter
from sandbox.world.truth import KINDS, pair_ground_truth

log = logging.getLogger(__name__)

GENERATOR_VERSION = "4"  # 2: `clean` worlds, contracts carry `refund_days`; 3: and `delivery_on`; 4: passport
# numbers distinct per buyer (decision 0036)
DEFAULT_START_ON = date(2025, 1, 1)
DEFAULT_MONTHS = 18
PAIRS_PER_BATCH = 250
PARALLEL_FROM_UNITS = 20_000  # below this, worker processes cost more than they save


@dataclass(frozen=True)
class WorldInfo:
    path: Path
    seed: int
    units: int
    start_on: date
    end_on: date
    months: int
    contracts: int
    events: int
    ground_truth: dict[str, int]
    generator_version: str
    inventory_sha256: str | None = None
    seconds: float = 0.0
    reused: bool = False
    meta: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_meta(cls, path: Path, meta: dict[str, str], *, seconds: float = 0.0, reused: bool = False) -> WorldInfo:
        return cls(
            path,
            int(meta["seed"]),
            int(meta["units"]),
            date.fromisoformat(meta["start_on"]),
            date.fromisoformat(meta["end_on"]),
            int(meta["months"]),
            int(meta["contracts"]),
            int(meta["events"]),
            json.loads(meta["ground_truth"]),
            meta["generator_version"],
            meta.get("inventory_sha256") or None,
            seconds,
            reused,
            dict(meta),
        )


def world_period(start_on: date | None, months: int | None) -> tuple[date, date, int]:
    """(start_on, end_on inclusive, months) with the defaults filled in."""
    start = start_on or DEFAULT_START_ON
    span = DEFAULT_MONTHS if months is None else months
    if span < 1:
        raise ValueError(f"expected a world of at least one month, got months={span}")
    return start, add_months(start, span) - timedelta(days=1), span


def unit_row(unit: Unit) -> tuple:
    project, building = unit.project, unit.building
    return (
        unit.house_id,
        project.code,
        project.name,
        project.district,
        building.name,
        unit.unit,
        unit.floor,
        unit.room,
        building.permit_no,
        unit.usage,
        hundredths_text(unit.building_area),
        hundredths_text(unit.inner_area),
        hundredths_text(unit.shared_area),
        hundredths_text(unit.unit_price * 100),
        hundredths_text(unit.list_total * 100),
        unit.orientation or None,
        building.delivery_on.isoformat(),
    )


Batch = tuple[list[tuple], list[tuple], list[tuple], list[tuple]]


def simulate_batch(seed: int, end_on: date, first_pair: int, units: list[Unit], clean: bool = False) -> Batch:
    """The store rows of a run of consecutive pairs starting at pair `first_pair`."""
    cutoff = day_end(end_on)
    dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode
    unit_rows = [unit_row(unit) for unit in units]
    contract_rows: list[tuple] = []
    event_rows: list[tuple] = []
    truth_rows: list[tuple] = []
    houses: dict[int, dict] = {}
    for offset in range(0, len(units), 2):
        pair = units[offset : offset + 2]
        second = pair[1] if len(pair) == 2 else None
        entries = []
        for life in simulate_pair(seed, first_pair + offset // 2, pair[0], second, end_on, clean):
            built = life_document(life, cutoff, houses)
            if built is None:
                continue
            doc, moments = built
            entries.append((life, doc))
            contract_rows.append((doc["contract_no"], doc["house"]["house_id"], moments[0], dumps(doc)))
            event_rows += [(doc["contract_no"], moment) for moment in moments]
        truth_rows += pair_ground_truth(entries, end_on)
    return unit_rows, contract_rows, event_rows, truth_rows


def _batches(units: Iterable[Unit], pairs_per_batch: int) -> Iterator[tuple[int, list[Unit]]]:
    batch: list[Unit] = []
    first_pair = 0
    for unit in units:
        batch.append(unit)
        if len(batch) == 2 * pairs_per_batch:
            yield first_pair, batch
            first_pair += pairs_per_batch
            batch = []
    if batch:
        yield first_pair, batch


def _process_context() -> BaseContext:
    """Fork when that is safe (a single-threaded parent on POSIX): no re-import, works from any script.
    A parent with threads (a server, a test with a live server) spawns instead."""
    if "fork" in get_all_start_methods() and threading.active_count() == 1:
        return get_context("fork")
    return get_context("spawn")


def _simulated(
    seed: int, end_on: date, batches: Iterator[tuple[int, list[Unit]]], workers: int, clean: bool = False
) -> Iterator[Batch]:
    """Batches simulated in order, in this process or in `workers` processes with a bounded queue."""
    if workers <= 0:
        for first_pair, units in batches:
            yield simulate_batch(seed, end_on, first_pair, units, clean)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_process_context()) as pool:
        pending: collections.deque[Future[Batch]] = collections.deque()
        for first_pair, units in batches:
            pending.append(pool.submit(simulate_batch, seed, end_on, first_pair, units, clean))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def generate_world(
    path: str | Path,
    *,
    units: int | None,
    seed: int,
    start_on: date | None = None,
    months: int | None = None,
    inventory_csv: str | Path | None = None,
    workers: int | None = None,
    clean: bool = False,
) -> WorldInfo:
    """Write a new world file at `path` (replacing any) and describe it.

    `clean`: plant no irregularity in the world or in any face derived from it (meta `clean` = "1").

    `units` is the number of generated units, or with `inventory_csv` the number of CSV rows to use
    (None = all). `workers` is the number of simulation processes (default: none below 20,000 units,
    else up to four).
    """
    started = time.monotonic()
    start, end_on, span = world_period(start_on, months)
    period_days = (end_on - start).days + 1
    if inventory_csv is None:
        if units is None or units < 1:
            raise ValueError(f"expected a positive number of units (or an inventory CSV), got units={units!r}")
        count, source = units, generated_units(seed, units, start, period_days)
    else:
        inventory_csv = Path(inventory_csv)
        count = check_inventory(inventory_csv, seed=seed, start_on=start, period_days=period_days, limit=units)
        source = inventory_units(inventory_csv, seed=seed, start_on=start, period_days=period_days, limit=units)
    if workers is None:
        workers = 0 if count < PARALLEL_FROM_UNITS else min(4, os.cpu_count() or 1)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    writer = WorldWriter(partial)
    contracts = events = 0
    truth: collections.Counter[str] = collections.Counter({kind: 0 for kind in KINDS})
    try:
        for batch in _simulated(seed, end_on, _batches(source, PAIRS_PER_BATCH), workers, clean):
            writer.write_batch(*batch)
            contracts += len(batch[1])
            events += len(batch[2])
            truth.update(row[0] for row in batch[3])
        meta = {
            "seed": str(seed),
            "units": str(count),
            "start_on": start.isoformat(),
            "end_on": end_on.isoformat(),
            "months": str(span),
            "contracts": str(contracts),
            "events": str(events),
            "ground_truth": json.dumps(dict(sorted(truth.items())), ensure_ascii=False),
            "generator_version": GENERATOR_VERSION,
            "inventory_sha256": file_sha256(inventory_csv) if inventory_csv else "",
            "clean": "1" if clean else "0",
        }
        writer.finish(meta)
        os.replace(partial, target)
    except BaseException:
        writer.abort()
        partial.unlink(missing_ok=True)
        raise
    return WorldInfo.from_meta(target, meta, seconds=time.monotonic() - started)


def world_file_name(
    *, units: int | None, seed: int, start_on: date, months: int, inventory_sha256: str | None, clean: bool = False
) -> str:
    inventory = f"-inv{inventory_sha256[:12]}" if inventory_sha256 else ""
    size = units if units is not None else "all"
    period = f"{start_on.isoformat()}-{months}m"
    return f"world-v{GENERATOR_VERSION}-seed{seed}-units{size}-{period}{inventory}{'-clean' if clean else ''}.sqlite"


def _readable_meta(path: Path) -> dict[str, str] | None:
    if not path.is_file():
        return None
    try:
        with WorldStore(path) as store:
            return store.meta
    except WorldStoreError:
        return None  # not a world (say, a file damaged by hand): generate it again


def ensure_world(
    cache_dir: str | Path,
    *,
    units: int | None,
    seed: int,
    start_on: date | None = None,
    months: int | None = None,
    inventory_csv: str | Path | None = None,
    clean: bool = False,
) -> Path:
    """The path of the world with these parameters in `cache_dir`: reused if there, else generated.

    A file is reused only when its meta names the same seed, units, period, inventory and generator
    version; generation writes a temporary file and renames it, so concurrent callers are safe.
    """
    start, _, span = world_period(start_on, months)
    inventory_sha = file_sha256(Path(inventory_csv)) if inventory_csv else None
    name = world_file_name(
        units=units, seed=seed, start_on=start, months=span, inventory_sha256=inventory_sha, clean=clean
    )
    path = Path(cache_dir) / name
    meta = _readable_meta(path)
    expected = {
        "seed": str(seed),
        "start_on": start.isoformat(),
        "months": str(span),
        "generator_version": GENERATOR_VERSION,
        "inventory_sha256": inventory_sha or "",
        "clean": "1" if clean else "0",
    }
    if inventory_csv is None:
        expected["units"] = str(units)  # an inventory world may hold fewer rows than `units` asks for
    if meta is not None and all(meta.get(key) == value for key, value in expected.items()):
        log.info("reusing world %s", path)
        return path
    info = generate_world(
        path, units=units, seed=seed, start_on=start, months=span, inventory_csv=inventory_csv, clean=clean
    )
    log.info("generated world %s: %d units, %d contracts in %.1fs", path, info.units, info.contracts, info.seconds)
    return path
