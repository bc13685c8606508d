"""`python -m bench`: every benchmark in turn (each can also run alone: `python -m bench.<name> --help`)."""

from __future__ import annotations

import sys

from bench import trading_network_sync


def main(argv: list[str]) -> int:
    print("## Trading-network sync\n", flush=True)
    return trading_network_sync.main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
