"""Statement files of bank accounts: layouts, readers, totals checks. See `reader.StatementReader`."""

from connectors.banks.statements.layouts import LAYOUTS, LAYOUTS_BY_NAME, Layout
from connectors.banks.statements.reader import StatementReader, file_quarantine, match_layout

__all__ = ["LAYOUTS", "LAYOUTS_BY_NAME", "Layout", "StatementReader", "file_quarantine", "match_layout"]
