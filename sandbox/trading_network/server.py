"""The housing trading network (developer-side gateway) on loopback, as docs/trading_network_api.md says.

It shows the world store (`sandbox.world`) at a simulated clock (contracts; and each permit's building
table, `sandbox.trading_network.inventory`): what a contract looks like at that
time comes from `sandbox.world.view` (`contract_as_of`, `contract_summary`); which contracts exist and
in what order they list comes from `WorldStore`. The clock stands still until moved with
`POST /_sandbox/clock`; tokens expire in real seconds.

Error codes: 40000 bad parameter, 40001 bad page token, 40100 missing or unknown token, 40101 wrong
account or password, 40102 expired token, 40400 no such contract or path, 40500 method not allowed,
50000 server error. The `/_sandbox/` control answers are bare JSON objects, not envelopes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import importlib
import json
import logging
import math
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox.faults import Corrupter
from sandbox.http_base import HttpError, Request, Response, Router, SandboxServer, TokenStore, json_response
from sandbox.trading_network import export
from sandbox.trading_network.inventory import BuildingTables
from sandbox.trading_network.store import WorldStore, utc_key
from sandbox.world.clock import BUSINESS_TZ

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 200
DEFAULT_TOKEN_TTL = 1800.0


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "ok", "data": data}


def parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 time; without an offset it is Beijing time. A bad value is a 400."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise HttpError(
            400,
            40000,
            f"参数错误：{name} 须为 ISO 8601 时间（如 2026-03-31T10:15:00+08:00，'+' 须编码为 %2B）",
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)


def beijing_iso(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).isoformat()


def load_view() -> ModuleType:
    """`sandbox.world.view`, imported when a server is built (the world package may be absent)."""
    return importlib.import_module("sandbox.world.view")


class PageTokens:
    """Opaque keyset page tokens, signed, bound to the query's `updated_since`."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:20]

    def encode(self, since: str | None, updated_at: str, contract_no: str) -> str:
        payload = json.dumps([since, updated_at, contract_no], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._sign(payload)

    def decode(self, token: str, since: str | None) -> tuple[str, str]:
        bad = HttpError(400, 40001, "page_token 无效或与本次查询条件（updated_since）不符")
        body, _, signature = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise bad from exc
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise bad
        token_since, updated_at, contract_no = json.loads(payload)
        if token_since != since:
            raise bad
        return updated_at, contract_no


class TradingNetworkServer(SandboxServer):
    """`TradingNetworkServer(world_path, account=..., password=...).start()`; see the module docstring."""

    name = "trading_network"

    def __init__(
        self,
        world_path: str | Path,
        *,
        account: str,
        password: str,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Any = None,
        clock: datetime | None = None,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        view: ModuleType | None = None,
    ) -> None:
        self._view = view or load_view()
        self._account = account
        self._password = password
        self.tokens = TokenStore(token_ttl)
        self.store = WorldStore(world_path, now=clock)
        try:
            seed = self.store.meta.get("seed", "")
            self.page_tokens = PageTokens(hashlib.sha256(f"estatehub-page-token:{seed}".encode()).digest())
            self.building_tables = BuildingTables(str(seed), self.store.start_key, self._view.contract_as_of)
            super().__init__(host=host, port=port, faults=faults)
        except BaseException:
            self.store.close()
            raise

    # -- hooks of the base ------------------------------------------------------------------------------

    def add_routes(self, router: Router) -> None:
        router.add("POST", "/api/v1/auth/login", self.login)
        router.add("GET", "/api/v1/contracts", self.list_contracts)
        router.add("GET", "/api/v1/contracts/export.xlsx", self.export_contracts)
        router.add("GET", "/api/v1/contracts/{contract_no}", self.get_contract)
        router.add("GET", "/api/v1/permits", self.list_permits)
        router.add("GET", "/api/v1/permits/{permit_no}/units", self.list_permit_units)
        router.add("GET", "/_sandbox/clock", self.get_clock)
        router.add("POST", "/_sandbox/clock", self.set_clock)

    def corrupter(self) -> Corrupter:
        return Corrupter(
            key_field=("contract_no", "unit_code"),  # contract lists, building tables
            date_field="updated_at",
            price_paths=("price.total_price", "total_price", "record_total_price"),
            id_paths=("buyers[].id_number",),
        )

    def expire_tokens(self) -> None:
        self.tokens.expire_all()

    def close_resources(self) -> None:
        self.store.close()

    # -- API --------------------------------------------------------------------------------------------

    def login(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, 40000, '参数错误：请求体须为 {"account": ..., "password": ...}')
        account, password = body.get("account"), body.get("password")
        if not (
            isinstance(account, str)
            and isinstance(password, str)
            and hmac.compare_digest(account.encode(), self._account.encode())
            and hmac.compare_digest(password.encode(), self._password.encode())
        ):
            raise HttpError(401, 40101, "账号或密码错误")
        token = self.tokens.issue()
        return json_response(envelope({"token": token, "expires_in": math.ceil(self.tokens.ttl)}))

    def authorize(self, request: Request) -> None:
        state = self.tokens.check(request.bearer_token())
        if state == TokenStore.EXPIRED:
            raise HttpError(401, 40102, "令牌已过期")
        if state != TokenStore.OK:
            raise HttpError(401, 40100, "未登录或令牌无效")

    def list_contracts(self, request: Request) -> Response:
        self.authorize(request)
        since = self._since(request)
        page_size = self._page_size(request)
        expand = request.query.get("expand")
        if expand not in (None, "", "detail"):
            raise HttpError(400, 40000, f"参数错误：expand 只能为 detail，收到 {expand!r}")
        token = request.query.get("page_token")
        after = self.page_tokens.decode(token, since) if token else None
        with self.store.reading() as (conn, now):
            rows = self.store.page(
                conn, since=since, after=after, include_after=request.wants_duplicate, limit=page_size + 1
            )
            page = rows[:page_size]
            items = [self._item(contract_no, doc, now, detail=expand == "detail") for contract_no, _, doc in page]
        next_token = None
        if len(rows) > page_size:
            contract_no, updated_at, _ = page[-1]
            next_token = self.page_tokens.encode(since, updated_at, contract_no)
        data = {"items": items, "next_page_token": next_token, "page_size": page_size}
        return json_response(envelope(data), records=items)

    def get_contract(self, request: Request) -> Response:
        self.authorize(request)
        contract_no = request.params["contract_no"]
        with self.store.reading() as (conn, now):
            doc = self.store.doc(conn, contract_no)
            view = self._view.contract_as_of(json.loads(doc), now) if doc else None
        if view is None:
            raise HttpError(404, 40400, "合同不存在")
        return json_response(envelope(view))

    def export_contracts(self, request: Request) -> Response:
        self.authorize(request)
        since = self._since(request)
        with self.store.reading() as (conn, now):
            views = (
                self._item(contract_no, doc, now, detail=True)
                for contract_no, _, doc in self.store.iter_all(conn, since=since)
            )
            body = export.write_export(views, now)
        stamp = now.astimezone(BUSINESS_TZ).strftime("%Y%m%d%H%M%S")
        return Response(
            body=body,
            content_type=export.CONTENT_TYPE,
            headers={"Content-Disposition": f'attachment; filename="contracts-{stamp}.xlsx"'},
        )

    def list_permits(self, request: Request) -> Response:
        """The pre-sale / sale permits, by number, paginated like the contracts (no `updated_since`:
        a permit's units change, not the permit)."""
        self.authorize(request)
        page_size = self._page_size(request)
        token = request.query.get("page_token")
        after = self.page_tokens.decode(token, "permits")[1] if token else ""
        with self.store.reading() as (conn, _):
            permits = [item for item in self.building_tables.permits(conn) if item["permit_no"] > after]
        page = permits[:page_size]
        next_token = None
        if len(permits) > page_size:
            next_token = self.page_tokens.encode("permits", "", page[-1]["permit_no"])
        return json_response(envelope({"items": page, "next_page_token": next_token, "page_size": page_size}))

    def list_permit_units(self, request: Request) -> Response:
        """The building table (楼盘表) of one permit at the clock, rows with `updated_at >= updated_since`
        in (updated_at, unit_code) order, paginated by a keyset token bound to the permit and query."""
        self.authorize(request)
        permit_no = request.params["permit_no"]
        since = self._since(request)
        page_size = self._page_size(request)
        scope = f"units:{permit_no}:{since or ''}"
        token = request.query.get("page_token")
        after = self.page_tokens.decode(token, scope) if token else None
        with self.store.reading() as (conn, now):
            rows = self.building_tables.rows(conn, permit_no, now)
        if rows is None:
            raise HttpError(404, 40400, "预售许可证不存在")
        keyed = [(utc_key(datetime.fromisoformat(row["updated_at"])), row["unit_code"], row) for row in rows]
        if after is not None:
            keyed = [entry for entry in keyed if entry[:2] > after or (request.wants_duplicate and entry[:2] == after)]
        elif since is not None:
            keyed = [entry for entry in keyed if entry[0] >= since]
        page = keyed[:page_size]
        next_token = None
        if len(keyed) > page_size:
            updated_key, unit_code, _ = page[-1]
            next_token = self.page_tokens.encode(scope, updated_key, unit_code)
        items = [row for _, _, row in page]
        data = {"permit_no": permit_no, "items": items, "next_page_token": next_token, "page_size": page_size}
        return json_response(envelope(data), records=items)

    # -- sandbox control --------------------------------------------------------------------------------

    def get_clock(self, request: Request) -> Response:
        return json_response({"now": beijing_iso(self.store.now)})

    def set_clock(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("now"), str):
            raise HttpError(400, 40000, 'expected {"now": "2026-03-31T18:00:00+08:00"}')
        self.store.set_clock(parse_time(body["now"], "now"))
        return json_response({"now": beijing_iso(self.store.now)})

    # -- helpers ----------------------------------------------------------------------------------------

    def _item(self, contract_no: str, doc: str, now: datetime, *, detail: bool) -> dict[str, Any]:
        view = self._view.contract_as_of(json.loads(doc), now)
        if view is None:
            raise RuntimeError(f"world store: contract {contract_no} has events before {now} but no view")
        return view if detail else self._view.contract_summary(view)

    @staticmethod
    def _since(request: Request) -> str | None:
        text = request.query.get("updated_since")
        return utc_key(parse_time(text, "updated_since")) if text else None

    @staticmethod
    def _page_size(request: Request) -> int:
        text = request.query.get("page_size")
        if not text:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(text)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise HttpError(400, 40000, f"参数错误：page_size 须为 1..{MAX_PAGE_SIZE} 的整数，收到 {text!r}")
        return size
