"""`python -m bench` (`make bench`): the one benchmark table (`bench.table`; `--help` for its options).

Each benchmark also runs alone, with its own detail: `python -m bench.<name> --help`.
"""

from __future__ import annotations

import sys

from bench.table import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
