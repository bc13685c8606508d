"""The policy-change monitor of the real estate bureau's website (issue 5; docs/decisions/0005).

    config = load_config("config/policy_watches.yaml", base_url=None)
    result = run_check(config, warehouse_engine, SmtpSender(settings).send)

Modules: `config` (the watch file), `normalise` (text snapshots and hashes), `extract` (attachment
text), `diff`, `classify` (topics and urgency), `tables` and `store` (the warehouse), `watch_check`
(one watch), `check` (one run and its alerts), `alerts` (the e-mails), `runtime` (Connections),
`cli` (`policy check|validate`), `score` (precision and recall on the sandbox).

The names below are imported when first used, so that `estatehub --help` stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CheckResult": "estatehub.policy.check",
    "WatchResult": "estatehub.policy.watch_check",
    "run_check": "estatehub.policy.check",
    "PolicyConfig": "estatehub.policy.config",
    "PolicyConfigError": "estatehub.policy.config",
    "load_config": "estatehub.policy.config",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'estatehub.policy' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
