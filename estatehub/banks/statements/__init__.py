"""Loading statement files: a registry of files, every line once, corrected files replacing earlier ones.

    result = load_statement_file(warehouse, path, bank="icbc")        # one file, one transaction
    result = sync_bank_statements(client, warehouse, folder)          # what the bank published since

A file is known by its SHA-256: delivered again (by the API, a landing folder or by hand), it is a
`duplicate` and nothing is loaded twice. A new file is read by `connectors.banks.statements`; its
lines are inserted by their line key (the same line in an overlapping file — a period export over the
days of the daily files — is the same key: kept once, now carried by the newer file). Rows the reader
could not read are quarantined with file and line; a file of unknown layout, or whose rows do not add
up to its totals line, is quarantined whole (the reason names the file and the difference) and none of
its lines are loaded — other files are not affected.

One module per job:

    registry.py    the file registry and its events; `duplicate`, `quarantined`, `superseded` files
    lines.py       the stored line: keyed line key, counterparty number masked with its keyed hash
    versions.py    a corrected file replacing an earlier one, an older one `superseded`
    quarantine.py  rows and reasons kept masked
    load.py        one file: the steps above in order, in one transaction
    sync.py        what a bank published since the last run; a landing folder

Settings (batch size, look-back, first day) are `estatehub.settings.BANK_STATEMENTS`.
"""

from estatehub.banks.statements.lines import ACCOUNT, LINE_KEY, LINE_KEYS_KEYED, ensure_keyed_line_keys
from estatehub.banks.statements.load import load_statement_file
from estatehub.banks.statements.registry import (
    DUPLICATE,
    LOADED,
    QUARANTINED,
    REPLACED,
    STREAM,
    SUPERSEDED,
    FileResult,
    file_sha256,
)
from estatehub.banks.statements.sync import StatementSource, StatementsResult, load_folder, sync_bank_statements

__all__ = [
    "ACCOUNT",
    "DUPLICATE",
    "LINE_KEY",
    "LINE_KEYS_KEYED",
    "LOADED",
    "QUARANTINED",
    "REPLACED",
    "STREAM",
    "SUPERSEDED",
    "FileResult",
    "StatementSource",
    "StatementsResult",
    "ensure_keyed_line_keys",
    "file_sha256",
    "load_folder",
    "load_statement_file",
    "sync_bank_statements",
]
