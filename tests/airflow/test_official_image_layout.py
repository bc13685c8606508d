"""The DAGs load in the official Airflow image's layout: DAGs in `$AIRFLOW_HOME/dags`, plugins in
`$AIRFLOW_HOME/plugins`, the project installed as a package and *not* on the path.

The DagBag is loaded in a child process whose working directory is elsewhere and whose PYTHONPATH
does not hold the project root, so `import plugins…` (or anything else that only resolves from the
project root) is an import error there, as it would be in the image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

LOAD = """
import json, sys
from pathlib import Path

root = Path(sys.argv[1])
assert not any(Path(entry or ".").resolve() == root for entry in sys.path), "the project root is on sys.path"

from airflow.dag_processing.dagbag import DagBag
from airflow import plugins_manager

import estatehub

plugins_manager.ensure_plugins_loaded()
bare = sorted(name for name in ("__init__", "base", "banks", "bureau", "ledger", "trading_network", "warehouse")
              if name in sys.modules)
bag = DagBag(dag_folder=sys.argv[2])
print(json.dumps({
    "import_errors": bag.import_errors,
    "dag_ids": sorted(bag.dag_ids),
    "estatehub": estatehub.__file__,
    "plugin_import_errors": plugins_manager.get_import_errors(),
    "bare_plugin_modules": bare,
}))
"""


def _airflow_home(tmp_path: Path) -> Path:
    home = tmp_path / "opt" / "airflow"
    shutil.copytree(PROJECT_ROOT / "dags", home / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT_ROOT / "plugins", home / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    return home


def load_in_image_layout(home: Path, cwd: Path) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "AIRFLOW_HOME": str(home),  # dags/ and plugins/ are found there by default, as in the image
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "ESTATEHUB_HOME": str(cwd / "var"),
    }
    result = subprocess.run(
        [sys.executable, "-c", LOAD, str(PROJECT_ROOT), str(home / "dags")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_dag_loads_from_airflow_home_with_the_project_installed_and_not_on_the_path(tmp_path):
    home = _airflow_home(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = load_in_image_layout(home, elsewhere)

    assert loaded["import_errors"] == {}
    expected = sorted(p.stem for p in (PROJECT_ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
    assert loaded["dag_ids"] == expected
    assert Path(loaded["estatehub"]).is_relative_to(PROJECT_ROOT / "estatehub"), "estatehub comes from the install"
    assert loaded["plugin_import_errors"] == {}
    assert loaded["bare_plugin_modules"] == [], "plugins/.airflowignore keeps the plugin loader off the modules"


def test_a_dag_that_imports_a_plugin_through_the_project_root_fails_to_load_there(tmp_path):
    home = _airflow_home(tmp_path)
    dag_file = home / "dags" / "ledger_sync.py"
    source = dag_file.read_text(encoding="utf-8")
    dag_file.write_text(source.replace("from dag_defaults import", "from plugins.dag_defaults import"), "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = load_in_image_layout(home, elsewhere)

    [error] = loaded["import_errors"].values()
    assert "No module named 'plugins'" in error
    assert "ledger_sync" not in loaded["dag_ids"]
