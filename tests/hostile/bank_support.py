"""What the hostile bank tests build for themselves: statement files and a small bank server.

`statement_file` writes a statement in a bank's collection-account layout (the sandbox's writer);
`FakeBank` is an HTTP server on a free local port that answers the routes a test gives it, as a
hostile or broken bank would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from connectors.banks import signing
from sandbox.banks import accounts, files

DAY = date(2025, 3, 3)
SECRET = "hostile-test-secret-0123456789abcdef"
APP_ID = "estatehub-test"


def line(
    seq: int, amount_fen: int, *, direction: str = "in", memo: str = "滨江悦府3栋2单元1502首付款", **extra
) -> dict:
    row = {
        "seq": seq,
        "booked_at": f"{DAY.isoformat()}T10:{seq % 60:02d}:00",
        "direction": direction,
        "amount_fen": amount_fen,
        "balance_fen": 500_000_000 + seq * amount_fen,
        "counterparty_name": "张三",
        "counterparty_account": "6217000011112222333",
        "counterparty_bank": "中国银行深圳分行",
        "summary": "转账",
        "memo": memo,
        "channel": "网上银行",
        "kind": "buyer_payment",
    }
    row.update(extra)
    return row


LINES = [line(1, 115_312_000), line(2, 5_000_000, memo="1-2-803定金"), line(3, 2_000_000)]


def statement_bytes(
    bank: str = "icbc", lines: list[dict] = LINES, *, account: str | None = None, day: date = DAY
) -> bytes:
    return files.write_statement(bank, account or accounts.ACCOUNTS[bank], lines, day, day)


def statement_file(
    folder: Path, bank: str = "icbc", lines: list[dict] = LINES, *, name: str | None = None, account: str | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or files.file_name(bank, account or accounts.ACCOUNTS[bank], DAY, DAY))
    path.write_bytes(statement_bytes(bank, lines, account=account))
    return path


Route = Callable[[str, dict[str, str]], tuple[int, dict[str, str], bytes]]


class FakeBank:
    """`with FakeBank({"/path": route_or_body}) as bank: bank.url`. A route is bytes, a JSON-able object
    or a function (path, query) → (status, headers, body). Every answer is signed with `SECRET` as the
    sandbox banks sign theirs, unless the route's headers already carry a signature (or `sign=False`);
    `tamper(body)`, when given, changes the body after it was signed (a man in the middle)."""

    def __init__(
        self, routes: dict[str, Any], *, sign: bool = True, tamper: Callable[[bytes], bytes] | None = None
    ) -> None:
        self.routes = routes
        self.sign = sign
        self.tamper = tamper
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                outer.requests.append(path)
                query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
                status, headers, body = outer.answer(path, query)
                if outer.sign and signing.HEADER_RESPONSE_SIGNATURE not in headers:
                    nonce = self.headers.get(signing.HEADER_NONCE) or ""
                    headers = {
                        **headers,
                        **signing.response_signature_headers(SECRET, status, nonce, body, timestamp=int(time.time())),
                    }
                if outer.tamper is not None:
                    body = outer.tamper(body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        route = self.routes.get(path)
        if route is None:
            return 404, {"Content-Type": "application/json"}, b'{"return_code": "404", "return_msg": "no such path"}'
        if callable(route):
            return route(path, query)
        if isinstance(route, bytes):
            return 200, {"Content-Type": "application/octet-stream"}, route
        return 200, {"Content-Type": "application/json"}, json.dumps(route, ensure_ascii=False).encode()

    def __enter__(self) -> FakeBank:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def icbc_listing(*names: str, account: str | None = None, day: date = DAY) -> dict:
    """The ICBC answer listing `names` as statement files of `day`."""
    return {
        "return_code": "0",
        "return_msg": "ok",
        "data": {
            "files": [
                {
                    "file_name": name,
                    "account_no": account or accounts.ACCOUNTS["icbc"],
                    "date": f"{day:%Y%m%d}",
                    "published_at": f"{day:%Y%m%d}180000",
                    "version": 1,
                }
                for name in names
            ]
        },
    }
