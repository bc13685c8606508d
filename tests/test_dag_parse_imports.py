"""Parsing a DAG file imports nothing heavy (decision 0026).

Airflow parses every DAG file again and again, so what a file imports at its top is paid on every parse.
Each file is parsed here as the DAG processor parses it: in a process forked from one that has Airflow's
`DagBag` loaded, after the Airflow modules the file names have been imported (the processor's
`parsing_pre_import_modules`, on by default, does that once, before it forks). What the parse adds to
`sys.modules` must be Airflow's own task machinery, `dag_defaults`, `notifiers` and
`estatehub.dag_settings`: no warehouse, SQLAlchemy, pandas, connector, hook or SMTP client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAG_FILES = sorted(p for p in (PROJECT_ROOT / "dags").glob("*.py") if not p.name.startswith("_"))

# what a DAG file may add while it is parsed: the project's DAG-building helpers, and what Airflow itself
# imports for the DAG objects (an Asset's URI handlers, the version a DAG records). Not `@task`'s machinery
# (its decorator, the standard provider's PythonOperator, `packaging` for its virtualenv operators): each
# file imports the decorator from its own module, which the processor imports before it forks (decision 0039)
ALLOWED = ("dag_defaults", "notifiers", "estatehub", "estatehub.dag_settings")
AIRFLOW_OWN = ("airflow.providers.common.io.",)
AIRFLOW_OWN_MODULES = ("airflow.version",)

PARSE_EACH = """
import importlib, json, os, sys

from airflow.dag_processing.dagbag import DagBag
from airflow.utils.file import iter_airflow_imports

for path in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the file's own process, as the DAG processor forks one per parse
        os.close(read)
        for module in iter_airflow_imports(path):
            importlib.import_module(module)
        before = set(sys.modules)
        bag = DagBag(dag_folder=path)
        added = sorted(set(sys.modules) - before)
        with os.fdopen(write, "w") as out:
            json.dump({"path": path, "errors": list(bag.import_errors.values()), "added": added}, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as result:
        print(result.read(), flush=True)
    os.waitpid(pid, 0)
"""


def parse_each(paths: list[Path], tmp_path: Path) -> dict[str, dict]:
    """Each DAG file's parse, as the DAG processor runs it: its import errors and the modules it added."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "ESTATEHUB_HOME": str(tmp_path / "var"),
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", PARSE_EACH, *map(str, paths)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    parsed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {Path(entry["path"]).name: entry for entry in parsed}


def heavy(added: list[str]) -> list[str]:
    """The modules of `added` that are neither the DAG-building helpers nor Airflow's own task machinery."""
    return [
        name
        for name in added
        if name not in ALLOWED
        and name not in AIRFLOW_OWN_MODULES
        and not name.startswith(AIRFLOW_OWN)
        and not name.startswith("unusual_prefix_")  # the DAG file itself, under the name DagBag gives it
    ]


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict[str, dict]:
    return parse_each(DAG_FILES, tmp_path_factory.mktemp("dag-parse"))


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parsing_a_dag_file_imports_nothing_heavy(parsed, path):
    entry = parsed[path.name]
    assert entry["errors"] == []
    assert heavy(entry["added"]) == [], (
        f"{path.name} imports at parse time what only its tasks need: move the import into the task's "
        "function (decision 0026)"
    )
    assert "dag_defaults" in entry["added"], "the check saw the file's own imports"


def test_a_dag_file_that_takes_task_from_airflow_sdk_pays_the_task_machinery_on_every_parse(tmp_path):
    """The check itself (decision 0039): `from airflow.sdk import task` resolves the decorator through the
    providers' registry when the file runs, in the parse's own process, so every parse imports the standard
    provider's decorator and PythonOperator modules (about 20 ms of a 7 ms empty file's parse)."""
    source = (PROJECT_ROOT / "dags" / "work_lists.py").read_text(encoding="utf-8")
    imported = "from airflow.providers.standard.decorators.python import python_task as task\n"
    assert imported in source
    bad = tmp_path / "work_lists.py"
    old = source.replace(imported, "").replace(
        "from airflow.sdk import Param, dag", "from airflow.sdk import Param, dag, task"
    )
    bad.write_text(old, "utf-8")

    found = heavy(parse_each([bad], tmp_path)["work_lists.py"]["added"])

    assert "airflow.providers.standard.decorators.python" in found
    assert "airflow.providers.standard.operators.python" in found


def test_a_dag_file_that_imports_the_warehouse_at_its_top_is_caught(tmp_path):
    """The check itself: the ledger DAG with the warehouse, SQLAlchemy and the SMTP notifier imported
    at its top, the way they once were, is reported with each of them."""
    source = (PROJECT_ROOT / "dags" / "ledger_sync.py").read_text(encoding="utf-8")
    heavy_top = "import estatehub.warehouse.engine\nimport notifiers\nnotifiers.supervisors_notifier()\n"
    bad = tmp_path / "ledger_sync.py"
    bad.write_text(source.replace("from dag_defaults import", heavy_top + "from dag_defaults import", 1), "utf-8")

    found = heavy(parse_each([bad], tmp_path)["ledger_sync.py"]["added"])

    assert "estatehub.warehouse.engine" in found
    assert "airflow.providers.smtp.notifications.smtp" in found
    assert "aiosmtplib" in found
