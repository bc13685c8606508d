"""One DAG file parsed as Airflow's DAG processor parses it: a fresh process that has Airflow loaded.

    python -m bench.dag_parse FILE

Imports Airflow's `DagBag` first (the processor has it loaded before it parses a file), then imports
the Airflow modules FILE names, as the processor does before it forks the file's process
(`[dag_processor] parsing_pre_import_modules`, on by default: paid once per processor, not per parse;
timed apart as `pre_import_seconds`), then times `DagBag` over FILE alone: the file's own imports (the
project's modules included) and its DAG objects. Prints one JSON line: seconds, pre-import seconds,
DAGs found, import errors, peak memory. Imports nothing of the project itself but `bench.common`
(standard library only at import), so nothing the file needs is loaded before the clock starts.
"""

from __future__ import annotations

import importlib
import json
import sys
import time

from bench.common import peak_rss_mb


def pre_import(path: str) -> float:
    """Import the Airflow modules `path` names, as the DAG processor does before each parse
    (`airflow.dag_processing.processor._pre_import_airflow_modules`); the seconds it took."""
    from airflow.utils.file import iter_airflow_imports

    started = time.perf_counter()
    for module in iter_airflow_imports(path):
        importlib.import_module(module)
    return time.perf_counter() - started


def parse(path: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    pre_import_seconds = pre_import(path)
    started = time.perf_counter()
    bag = DagBag(dag_folder=path)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "pre_import_seconds": pre_import_seconds,
        "records": len(bag.dags),
        "errors": {str(file): str(error)[-500:] for file, error in bag.import_errors.items()},
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(parse(sys.argv[1])), flush=True)
