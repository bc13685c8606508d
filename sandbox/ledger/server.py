"""The finance ERP on loopback, in the style of Kingdee K/3 Cloud's Web API.

    POST /k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc
         {"acctID": "...", "username": "...", "password": "...", "lcid": 2052}
         (or {"parameters": [acctID, username, password, lcid]})
      →  {"LoginResultType": 1, "KDSVCSessionId": "...", "Message": null, "Context": {...}}
         and the cookie `kdservice-sessionid`; wrong credentials: LoginResultType 0 (still HTTP 200).

    POST /k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc
         {"data": {"FormId": "GL_VOUCHER", "FieldKeys": "FVOUCHERID,FDate,…", "FilterString": "…",
                   "OrderString": "FEntity_FEntryID ASC", "TopRowCount": 0, "StartRow": 0, "Limit": 2000}}
      →  [[value, value, …], …] in field-key order (at most 10,000 rows)
         An error (a lost session, an unknown field, a bad filter) is HTTP 200 with
         [[{"Result": {"ResponseStatus": {"IsSuccess": false, "MsgCode": 1, "Errors": [{"Message": …}]}}}]]
         where MsgCode 1 means the session is lost (会话信息已丢失，请重新登录): log in again.

The session (cookie `kdservice-sessionid`, or the header of that name) expires after `session_ttl`
real seconds, and at once under the `expire_tokens` fault. The books are those of the ledger store
(`sandbox.ledger.book`) at the simulated clock: `GET|POST /_sandbox/clock` as on the other servers.
Forms: GL_VOUCHER (one row per entry), AR_RECEIVEBILL, AR_REFUNDBILL, IV_SALESOC (`sandbox.ledger.forms`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sandbox.faults import BAD_DATE, HALF_AN_EMOJI, NON_NUMERIC_PRICE, Corrupter
from sandbox.http_base import HttpError, Request, Response, Router, SandboxServer, TokenStore, json_bytes, json_response
from sandbox.ledger.book import ensure_ledger
from sandbox.ledger.filters import Compare, FilterError, keyset_bound, parse_filter, to_sql
from sandbox.ledger.forms import DATE, FORMS, MONEY, Form

log = logging.getLogger(__name__)

LOGIN_PATH = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
QUERY_PATH = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
SESSION_COOKIE = "kdservice-sessionid"
MAX_ROWS = 10_000
SESSION_LOST = 1
QUERY_ERROR = 9
DEFAULT_ACCOUNT = "dev-sandbox"
DEFAULT_PASSWORD = "sandbox-only-password"  # the sandbox's own fake login, not a secret of any real system
DEFAULT_ACCT_ID = "62f1a0c4e8b3d2"
BEIJING = timedelta(hours=8)


def k3_error(message: str, code: int = QUERY_ERROR) -> list:
    """The body K/3 Cloud answers a failed query with (HTTP 200)."""
    status = {
        "ErrorCode": 500,
        "IsSuccess": False,
        "Errors": [{"FieldName": None, "Message": message, "DIndex": 0}],
        "SuccessEntitys": [],
        "SuccessMessages": [],
        "MsgCode": code,
    }
    return [[{"Result": {"ResponseStatus": status}}]]


@dataclass(slots=True)
class _RowsResponse(Response):
    """Rows kept as dicts (so `malformed` faults can corrupt them by field) and sent as arrays."""

    field_keys: tuple[str, ...] = field(default_factory=tuple)

    def encoded(self) -> bytes:
        if self.body is None:
            self.body = json_bytes([[row.get(key) for key in self.field_keys] for row in self.records or []])
        return self.body


class LedgerCorrupter(Corrupter):
    """`malformed` for ERP rows: a missing id, an impossible date, a negative or non-numeric amount, a memo
    cut in the middle of an emoji."""

    _IDS = ("FEntity_FEntryID", "FID", "FVOUCHERID", "FBillNo")
    _DATES = ("FDate", "FDATE", "FINVOICEDATE", "FModifyDate")
    _MONEY = ("FDEBIT", "FCREDIT", "FRECTOTALAMOUNTFOR", "FREFUNDTOTALAMOUNTFOR", "FALLAMOUNTFOR")
    _TEXTS = ("FEXPLANATION", "FREMARK")  # what a clerk types: where a pasted emoji is cut

    def __init__(self) -> None:
        super().__init__(key_field="FID")

    def corrupt(self, record: dict[str, Any], corruption: str) -> str:
        keys = {key.lower(): key for key in record}
        if corruption == "cut_character":
            found = next((keys[k.lower()] for k in self._TEXTS if k.lower() in keys), None)
            if found and isinstance(record[found], str):
                record[found] = record[found] + " " + HALF_AN_EMOJI
                return corruption
        if corruption == "missing_key":
            found = next((keys[k.lower()] for k in self._IDS if k.lower() in keys), None)
            if found:
                record[found] = None
                return corruption
        if corruption in ("negative_price", "non_numeric_price"):
            for name in self._MONEY:
                found = keys.get(name.lower())
                if found and isinstance(record[found], int | float) and record[found]:
                    record[found] = -record[found] if corruption == "negative_price" else NON_NUMERIC_PRICE
                    return corruption
        found = next((keys[k.lower()] for k in self._DATES if k.lower() in keys), None)
        if found:
            record[found] = BAD_DATE.removesuffix("+08:00")
        return "bad_date"


class LedgerServer(SandboxServer):
    name = "ledger"

    def __init__(
        self,
        ledger_path: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: datetime | None = None,
        faults: Any = None,
        account: str = DEFAULT_ACCOUNT,
        password: str = DEFAULT_PASSWORD,
        acct_id: str | None = None,
        session_ttl: float = 1200.0,
    ) -> None:
        self.ledger_path = Path(ledger_path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.account, self.password, self.acct_id = account, password, acct_id
        self.sessions = TokenStore(session_ttl)
        meta = dict(self._db().execute("select key, value from meta").fetchall())
        self.ledger_end = datetime.fromisoformat(meta["end"])
        self._now = self.ledger_end
        if clock is not None:
            self.set_clock(clock)
        super().__init__(host=host, port=port, faults=faults)

    # -- the clock ------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The simulated time, timezone-aware (UTC)."""
        return (self._now - BEIJING).replace(tzinfo=UTC)

    def set_clock(self, now: datetime) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware time for the clock, got {now!r}")
        self._now = (now.astimezone(UTC).replace(tzinfo=None) + BEIJING).replace(microsecond=0)

    # -- plumbing -------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                f"file:{quote(str(self.ledger_path.resolve()))}?mode=ro", uri=True, check_same_thread=False
            )
            db.execute("pragma cache_size=-32768")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def close_resources(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()

    def corrupter(self) -> Corrupter:
        return LedgerCorrupter()

    def expire_tokens(self) -> None:
        self.sessions.expire_all()

    def add_routes(self, router: Router) -> None:
        router.add("GET", "/_sandbox/clock", self._get_clock)
        router.add("POST", "/_sandbox/clock", self._post_clock)
        router.add("POST", LOGIN_PATH, self._login)
        router.add("POST", QUERY_PATH, self._query)

    # -- handlers -------------------------------------------------------------------------------

    def _get_clock(self, request: Request) -> Response:
        return json_response({"now": self._now.isoformat() + "+08:00"})

    def _post_clock(self, request: Request) -> Response:
        body = request.json()
        try:
            moment = datetime.fromisoformat(str((body or {}).get("now")))
            self.set_clock(moment)
        except (TypeError, ValueError) as exc:
            raise HttpError(400, 40000, f'expected {{"now": "2026-03-31T18:00:00+08:00"}}: {exc}') from exc
        log.info("ledger clock set to %s", self._now)
        return self._get_clock(request)

    def _login(self, request: Request) -> Response:
        body = request.json()
        if isinstance(body, dict) and isinstance(body.get("parameters"), list):
            params = body["parameters"] + [None] * 4
            acct, user, password = params[0], params[1], params[2]
        elif isinstance(body, dict):
            acct, user = body.get("acctID") or body.get("acctId"), body.get("username") or body.get("userName")
            password = body.get("password")
        else:
            raise HttpError(400, 40000, "登录请求格式错误")
        if user != self.account or password != self.password or (self.acct_id and acct != self.acct_id):
            return json_response(
                {
                    "LoginResultType": 0,
                    "Message": "用户名或密码错误！",
                    "KDSVCSessionId": None,
                    "Context": None,
                    "IsSuccessByAPI": False,
                }
            )
        session = self.sessions.issue()
        context = {"UserName": user, "DataCenterName": "estatehub 沙箱账套", "DBid": acct, "LCID": 2052}
        return json_response(
            {
                "LoginResultType": 1,
                "Message": None,
                "KDSVCSessionId": session,
                "Context": context,
                "IsSuccessByAPI": True,
            },
            headers={"Set-Cookie": f"{SESSION_COOKIE}={session}; path=/; HttpOnly"},
        )

    def _session(self, request: Request) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(request.headers.get("Cookie") or "")
        except Exception:  # noqa: BLE001 - http.cookies raises CookieError on junk; treat as no cookie
            return None
        morsel = cookie.get(SESSION_COOKIE)
        return morsel.value if morsel else request.headers.get(SESSION_COOKIE)

    def _query(self, request: Request) -> Response:
        if self.sessions.check(self._session(request)) != TokenStore.OK:
            return json_response(k3_error("会话信息已丢失，请重新登录", SESSION_LOST))
        body = request.json()
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError:
                data = None
        if not isinstance(data, dict):
            return json_response(k3_error('请求格式错误: 需要 {"data": {"FormId": …, "FieldKeys": …}}'))
        form = FORMS.get(str(data.get("FormId") or "").lower())
        if form is None:
            return json_response(k3_error(f"表单 {data.get('FormId')!r} 不存在"))
        try:
            rows, keys = self.rows(form, data, duplicate=request.wants_duplicate)
        except FilterError as exc:
            return json_response(k3_error(str(exc)))
        return _RowsResponse(records=rows, field_keys=keys)

    # -- the query -------------------------------------------------------------------------------

    def rows(self, form: Form, data: dict, *, duplicate: bool = False) -> tuple[list[dict], tuple[str, ...]]:
        """The rows of one query as dicts keyed by the requested field keys (K/3's order and limits)."""
        keys = tuple(k.strip() for k in str(data.get("FieldKeys") or "").split(",") if k.strip())
        if not keys:
            raise FilterError("FieldKeys 不能为空")
        fields = []
        for key in keys:
            found = form.field(key)
            if found is None:
                raise FilterError(f"字段 {key} 不存在于表单 {form.form_id}")
            fields.append(found)
        tree = parse_filter(form, str(data.get("FilterString") or ""))
        order_field = form.field(form.order_key)
        assert order_field is not None
        order = self._order(form, str(data.get("OrderString") or ""))
        start = max(int(data.get("StartRow") or 0), 0)
        limit = int(data.get("Limit") or 0)
        top = int(data.get("TopRowCount") or 0)
        limit = min(limit or MAX_ROWS, top or MAX_ROWS, MAX_ROWS)
        now = self._now.isoformat()
        select = ", ".join(f"{f.sql}" for f in fields)
        params: list[Any] = []
        where = to_sql(tree, params)
        sql = f"select {select} from {form.source} where x.created_at <= :now and ({where}) order by {order}"
        prepend: list[tuple] = []
        if duplicate:
            if start > 0:
                start -= 1
            else:
                bound = keyset_bound(tree, order_field.key)
                if bound is not None:
                    rest, compare = bound
                    before: list[Any] = []
                    rest_sql = to_sql(rest, before)
                    flipped = to_sql(Compare(compare.field, "<=" if compare.op == ">" else "<", compare.values), before)
                    prepend = self._execute(
                        f"select {select} from {form.source} where x.created_at <= :now and ({rest_sql})"
                        f" and {flipped} order by {order_field.sql} desc limit 1",
                        before,
                        now,
                    )
        found = self._execute(sql + f" limit {limit} offset {start}", params, now)
        rows = [*prepend, *found][: max(limit, len(prepend))] if prepend else found
        return [self._row(keys, fields, values) for values in rows], keys

    def _order(self, form: Form, text: str) -> str:
        parts = []
        for item in filter(None, (piece.strip() for piece in text.split(","))):
            name, _, direction = item.partition(" ")
            target = form.field(name)
            if target is None:
                raise FilterError(f"排序字段 {name} 不存在于表单 {form.form_id}")
            direction = direction.strip().lower() or "asc"
            if direction not in ("asc", "desc"):
                raise FilterError(f"排序方向 {direction!r} 无效")
            parts.append(f"{target.sql} {direction}")
        key = form.field(form.order_key)
        assert key is not None
        parts.append(f"{key.sql} asc")  # always a total order
        return ", ".join(parts)

    def _execute(self, sql: str, params: list[Any], now: str) -> list[tuple]:
        named = {f"p{i}": value for i, value in enumerate(params)}
        counter = iter(range(len(params)))
        text = "".join(f":p{next(counter)}" if ch == "?" else ch for ch in sql)
        return self._db().execute(text, {**named, "now": now}).fetchall()

    @staticmethod
    def _row(keys: tuple[str, ...], fields: list, values: tuple) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for key, target, value in zip(keys, fields, values, strict=True):
            if value is not None and target.kind == MONEY:
                value = value / 100
            elif value is not None and target.kind == DATE:
                value = f"{value}T00:00:00"
            row[key] = value
        return row


def start_ledger_server(
    world_path: str | Path,
    *,
    seed: int,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: datetime | None = None,
    faults: Any = None,
    account: str = DEFAULT_ACCOUNT,
    password: str = DEFAULT_PASSWORD,
    acct_id: str | None = None,
    session_ttl: float = 1200.0,
    cache_dir: str | Path | None = None,
    bank_world: str | Path | None = None,
) -> LedgerServer:
    """Build (or reuse) the ledger of a world file and serve it on loopback in a daemon thread.

    Returns the running server: `.url`, `.stop()`, `.set_clock(aware_datetime)`.
    """
    ledger = ensure_ledger(world_path, seed=seed, cache_dir=cache_dir, bank_world=bank_world)
    server = LedgerServer(
        ledger,
        host=host,
        port=port,
        clock=clock,
        faults=faults,
        account=account,
        password=password,
        acct_id=acct_id,
        session_ttl=session_ttl,
    )
    return server.start()  # type: ignore[return-value]
