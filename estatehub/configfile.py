"""Reading one of the installation's YAML files (`config/*.yaml` or the installation's own copy).

    data = read_yaml(path, "the city rules", CityRulesError)

A file that cannot be read, or is not YAML, raises the caller's own error (a `UsageError`) naming the
file and what is wrong; what the data must look like is the caller's to check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from estatehub.errors import UsageError


def read_yaml(path: Path, what: str, error: type[UsageError]) -> Any:
    """The YAML document of `path` (None for an empty file); `what` names the file in the message."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path} is not valid YAML: {exc}") from exc
