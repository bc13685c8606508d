"""The project installed as a package (`pip install .`, as the official Airflow image installs it) has
what it reads at run time: the SQL models and the default watch file travel as package data, and
nothing is looked up beside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

# runs in a folder of its own, with the installed copy first on the path: loads a SQL model and the
# watch file from wherever estatehub was imported
LOAD = """
import json, sys
import estatehub
from estatehub.policy.config import load_config, DEFAULT_CONFIG_PATH
from estatehub.warehouse import sqlfiles
models = sqlfiles.models("core")
text = sqlfiles.sql_text("core/core_contract")
config = load_config(DEFAULT_CONFIG_PATH, base_url=None)
print(json.dumps({"estatehub": estatehub.__file__, "models": len(models), "sql": text[:200],
                  "watches": len(config.watches), "config": str(DEFAULT_CONFIG_PATH)}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return next(out.glob("estatehub-*.whl"))


def test_the_wheel_carries_every_sql_model_and_the_watch_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        path.relative_to(PROJECT_ROOT).as_posix() for path in (PROJECT_ROOT / "estatehub" / "sql").rglob("*.sql")
    }
    assert shipped, "the checkout has SQL models"
    assert shipped <= names, f"missing from the wheel: {sorted(shipped - names)[:5]}"
    assert "estatehub/config/policy_watches.yaml" in names


def test_an_installed_copy_loads_a_sql_model_and_the_watch_file_from_the_package(wheel, tmp_path):
    target = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run = tmp_path / "elsewhere"
    run.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", LOAD], cwd=run, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout)
    assert Path(loaded["estatehub"]).is_relative_to(target), "estatehub is the installed copy, not the checkout"
    assert Path(loaded["config"]).is_relative_to(target)
    assert loaded["models"] >= 10
    assert "select" in loaded["sql"].lower()
    assert loaded["watches"] >= 1
