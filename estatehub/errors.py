"""Errors of the command line that every command module raises (the library's own errors live beside
their code: `estatehub.warehouse.errors`, `estatehub.sync.errors`, ...)."""

from __future__ import annotations


class UsageError(Exception):
    """A command line that cannot be carried out as given (exit code 2)."""
