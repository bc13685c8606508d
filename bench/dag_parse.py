"""One DAG file parsed as Airflow's DAG processor parses it: a fresh process that has Airflow loaded.

    python -m bench.dag_parse FILE

Imports Airflow's `DagBag` first (the processor has it loaded before it parses a file), then times
`DagBag` over FILE alone: the file's own imports (the project's modules included) and its DAG
objects. Prints one JSON line: seconds, DAGs found, import errors, peak memory. Imports nothing of
the project itself but `bench.common` (standard library only at import), so nothing the file needs is
loaded before the clock starts.
"""

from __future__ import annotations

import json
import sys
import time

from bench.common import peak_rss_mb


def parse(path: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=path)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "records": len(bag.dags),
        "errors": {str(file): str(error)[-500:] for file, error in bag.import_errors.items()},
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(parse(sys.argv[1])), flush=True)
