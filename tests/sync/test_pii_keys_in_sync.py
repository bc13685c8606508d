"""The keyed hash in `core_buyer` depends on the key: two warehouses under two PII keys hold different
hashes of the same buyers, each the HMAC of the buyer's ID number under its own key (issue 9, item 7)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import select

from estatehub.pii import PiiHasher
from estatehub.trading_network import tables as tn_tables
from estatehub.trading_network.sync import sync_trading_network
from estatehub.warehouse.engine import Warehouse
from tests.support.trading_network_fakes import BASE_AT, FakeTradingNetworkClient, world_at

KEYS = (b"first-key-Zq81LmVx02NcTr7pWb5Ke3", b"second-key-Hy64DsQa9UoXe2Rf7Gm1J")


def _buyers(tmp_path, key: bytes, contracts) -> dict[str, str]:
    warehouse = Warehouse.from_url(f"sqlite:///{tmp_path / (key[:5].decode() + '.db')}", pii_key=key)
    try:
        warehouse.prepare()
        sync_trading_network(FakeTradingNetworkClient(contracts), warehouse)
        with warehouse.engine.connect() as conn:
            return dict(conn.execute(select(tn_tables.core_buyer.c.id_masked, tn_tables.core_buyer.c.id_hash)).all())
    finally:
        warehouse.dispose()


def test_two_pii_keys_give_different_core_buyer_hashes(tmp_path):
    contracts = world_at(5, BASE_AT + timedelta(days=30))
    first, second = (_buyers(tmp_path, key, contracts) for key in KEYS)
    assert first and first.keys() == second.keys(), "the same buyers, masked alike"
    assert not set(first.values()) & set(second.values()), "no hash is the same under another key"
    id_numbers = {buyer.id_number for contract in contracts for buyer in contract.buyers}
    for key, hashes in zip(KEYS, (first, second), strict=True):
        by_hand = {
            hmac.new(key, f"id_number:{number.upper()}".encode(), hashlib.sha256).hexdigest() for number in id_numbers
        }
        assert set(hashes.values()) == by_hand
    assert PiiHasher(KEYS[0]).fingerprint() != PiiHasher(KEYS[1]).fingerprint()
