"""pandas `json_normalize` + `to_sql`: the contract listing flattened into one table.

    python -m bench.peers.pandas_trading_network URL WAREHOUSE_URL

What a user with pandas would write: page through the listing (the project's client pages it, the
same requests as the sync), flatten every contract with `json_normalize` (nested objects become
`price.total_price`-style columns; lists such as the buyers and the payment plan stay JSON text in
their cell) and write the frame with `DataFrame.to_sql` into one table, `contracts`. No history, no
hashing, no quarantine, every value text or number as JSON gave it. Prints one JSON line (the
measurement of `bench.common.measure`, and the rows written).
"""

from __future__ import annotations

import json
import sys

from bench.common import emit, measure
from bench.trading_network_sync import _client

TABLE = "contracts"


def load(url: str, warehouse_url: str) -> dict:
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(warehouse_url)

    def run() -> int:
        items: list = []
        with _client(url) as client:
            for page in client.iter_pages(None, detail=True):
                items.extend(page.items)
        frame = pd.json_normalize(items)
        for column in frame.columns:
            if frame[column].map(lambda value: isinstance(value, list | dict)).any():
                frame[column] = frame[column].map(_as_json)
        frame.to_sql(TABLE, engine, if_exists="replace", index=False, chunksize=5000)
        return len(frame)

    result = measure(run)
    result["written"] = {TABLE: result["records"]}
    engine.dispose()
    return result


def _as_json(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


if __name__ == "__main__":
    emit(load(sys.argv[1], sys.argv[2]))
