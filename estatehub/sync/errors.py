"""Errors of the sync jobs.

SyncError
├── QuarantineThresholdExceeded   too many bad records in one run (the good ones are loaded)
└── SyncAlreadyRunning            another sync of the same stream holds its lock
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from estatehub.sync.runs import SyncResult


class SyncError(Exception):
    """Root of the sync jobs' errors."""


class QuarantineThresholdExceeded(SyncError):
    """A run quarantined a larger share of its records than the settings allow.

    Raised after the good records are committed; `result` has the run's counts.
    """

    def __init__(self, message: str, *, result: SyncResult, threshold: float) -> None:
        super().__init__(message)
        self.result = result
        self.threshold = threshold


class SyncAlreadyRunning(SyncError):
    """Another sync of the same stream is running (it holds the stream's lock); the message names it."""
