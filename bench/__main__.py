"""`python -m bench`: every benchmark in turn (each can also run alone: `python -m bench.<name> --help`)."""

from __future__ import annotations

import sys

from bench import reconcile_score, trading_network_sync


def main(argv: list[str]) -> int:
    print("## Trading-network sync\n", flush=True)
    code = trading_network_sync.main(argv)
    print("\n## Reconciliations scored against the sandbox's ground truth (demo world)\n", flush=True)
    return max(code, reconcile_score.main([]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
