"""The banks and the fund centre on loopback: one signed API server each, over the bank world.

Every API request is signed (`connectors.banks.signing`): headers `X-App-Id`, `X-Timestamp`,
`X-Nonce`, `X-Signature`. HTTP 401 with the bank's own envelope and code 40103 (bad signature), 40104
(nonce seen before), 40105 (timestamp more than 5 minutes from the bank's clock; the answer carries
`X-Server-Time`), 40106 (unknown app id). Each bank speaks its own dialect:

- icbc: `GET /api/icbc/v1/loans?updated_since=yyyyMMddHHmmss&page_no=&page_size=` →
  `{"return_code": "0", "data": {"records", "page_no", "has_next"}}`, amounts in fen, stage codes;
  statements `GET /api/icbc/v1/statements?date_from=yyyyMMdd&date_to=`, `GET .../statements/{file_name}`,
  a period file `GET .../statements/export?date_from=&date_to=`.
- ccb: `POST /ccb/loan/progress/query {"updatedSince": "yyyy-MM-dd HH:mm:ss", "cursor", "limit"}` →
  `{"code": "000000", "result": {"items", "nextCursor"}}`, yuan strings, Chinese statuses; statements
  `POST /ccb/statement/list {"startDate", "endDate"}`, `GET /ccb/statement/download?fileName=`,
  `GET /ccb/statement/export?startDate=&endDate=`.
- cmb: `GET /cmb/api/mortgage/v2/applications?since=<iso>&offset=&limit=` →
  `{"success": true, "data": [...], "hasMore"}`, English stage codes, ISO times; statements
  `GET /cmb/api/statement/v1/files?from=yyyy-MM-dd&to=`, `GET .../files/{name}`, `GET .../export?from=&to=`.
- hpf: no loan API: `GET /hpf/api/loan-lists?date_from=yyyyMMdd&date_to=` lists the daily loan lists,
  `GET /hpf/api/loan-lists/{file_name}` downloads one (.xlsx).

A day's statement file (and loan list) is published at 06:00 the next morning of the simulated clock;
a corrected file (`_v2`) a day later. Sandbox control, never signed nor faulted: `GET|POST
/_sandbox/clock`, `GET|POST /_sandbox/skew {"seconds": n}` (the bank's signature clock runs n seconds
off), `POST /_sandbox/landing {"folder", "date_from", "date_to", "period": false}` (write the files
into a landing folder), `GET /_sandbox/truth` (the bank's ground truth).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from connectors.banks import signing
from connectors.banks.errors import NONCE_REUSED, SIGNATURE_MISMATCH, TIMESTAMP_OUT_OF_WINDOW, UNKNOWN_APP_ID
from sandbox.banks import accounts, files
from sandbox.banks.world import PUBLISH_AT, BankWorld, FileVersion, ensure_bank_world
from sandbox.faults import Corrupter
from sandbox.http_base import HttpError, Request, Response, Router, SandboxServer, json_response
from sandbox.world.clock import BUSINESS_TZ

log = logging.getLogger(__name__)

MAX_PAGE = 200
ICBC_STAGE_CODES = {
    "资料收齐": "10",
    "已递交": "20",
    "已审批": "30",
    "拒贷": "31",
    "已签借款合同": "40",
    "抵押(预告)登记": "50",
    "已放款": "60",
    "已撤销": "90",
}
CMB_STAGE_CODES = {
    "资料收齐": "COLLECTED",
    "已递交": "SUBMITTED",
    "已审批": "APPROVED",
    "拒贷": "REJECTED",
    "已签借款合同": "CONTRACT_SIGNED",
    "抵押(预告)登记": "MORTGAGE_REGISTERED",
    "已放款": "DISBURSED",
    "已撤销": "WITHDRAWN",
}
ICBC_CERT_TYPES = {"身份证": "01", "护照": "02", "统一社会信用代码": "03"}
CMB_CERT_TYPES = {"身份证": "ID_CARD", "护照": "PASSPORT", "统一社会信用代码": "USCC"}


def _yuan(amount_fen: int | None) -> str | None:
    if amount_fen is None:
        return None
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), 100)
    return f"{sign}{whole}.{part:02d}"


def _compact(bj_iso: str) -> str:
    """`2025-01-02T10:15:00+08:00` → `20250102101500`."""
    return bj_iso[:19].replace("-", "").replace(":", "").replace("T", "")


def _spaced(bj_iso: str) -> str:
    return bj_iso[:19].replace("T", " ")


def _utc_key(moment: datetime) -> str:
    """A moment as the bank world stores times: UTC text, to the second."""
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "+00:00"


def _parse_day(text: str | None, name: str) -> date:
    if not text:
        raise HttpError(400, 40000, f"参数错误：缺少 {name}")
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text)
    except ValueError as exc:
        raise HttpError(400, 40000, f"参数错误：{name} 须为日期（20250101），收到 {text!r}") from exc


def _parse_moment(text: str | None, name: str) -> datetime | None:
    """A time as a bank writes it (`20250102101500`, `2025-01-02 10:15:00`, ISO) in Beijing time."""
    if not text:
        return None
    try:
        if text.isdigit() and len(text) == 14:
            moment = datetime.strptime(text, "%Y%m%d%H%M%S")
        else:
            moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError as exc:
        raise HttpError(400, 40000, f"参数错误：{name} 无法解析为时间，收到 {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)


def _int_param(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise HttpError(400, 40000, f"参数错误：{name} 须为整数，收到 {text!r}") from exc
    if not low <= value <= high:
        raise HttpError(400, 40000, f"参数错误：{name} 须在 {low}..{high} 之间，收到 {value}")
    return value


class Nonces:
    """Nonces seen within the window (twice the timestamp window, then forgotten)."""

    def __init__(self, keep: float, clock: Callable[[], float] = time.time) -> None:
        self._keep = keep
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def use(self, nonce: str) -> bool:
        """Record `nonce`; False when it was seen before."""
        now = self._clock()
        with self._lock:
            if len(self._seen) > 50_000:
                self._seen = {n: t for n, t in self._seen.items() if t > now}
            expires = self._seen.get(nonce)
            if expires is not None and expires > now:
                return False
            self._seen[nonce] = now + self._keep
            return True


@dataclass
class Credentials:
    app_id: str
    secret: str = field(repr=False)


class BankServer(SandboxServer):
    """Base of the four servers: signature checks, the clock, statements, landing, ground truth."""

    bank = ""
    name = "bank"

    def __init__(
        self,
        world_path: str | Path,
        *,
        credentials: Credentials,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Any = None,
        clock: datetime | None = None,
        skew: float = 0.0,
        window: int = signing.WINDOW_SECONDS,
    ) -> None:
        self.world = BankWorld(world_path, now=clock)
        self.credentials = credentials
        self.skew = float(skew)
        self.window = window
        self.nonces = Nonces(2 * window)
        self.cursor_key = hashlib.sha256(f"cursor:{self.bank}:{self.world.meta.get('seed')}".encode()).digest()
        try:
            super().__init__(host=host, port=port, faults=faults)
        except BaseException:
            self.world.close()
            raise

    # -- hooks ----------------------------------------------------------------------------------------

    def add_routes(self, router: Router) -> None:
        router.add("GET", "/_sandbox/clock", self.get_clock)
        router.add("POST", "/_sandbox/clock", self.set_clock)
        router.add("GET", "/_sandbox/skew", self.get_skew)
        router.add("POST", "/_sandbox/skew", self.set_skew)
        router.add("POST", "/_sandbox/landing", self.landing)
        router.add("GET", "/_sandbox/truth", self.truth)
        self.add_api_routes(router)

    def add_api_routes(self, router: Router) -> None:
        """The bank's own API routes."""

    def close_resources(self) -> None:
        self.world.close()

    # -- the signature ------------------------------------------------------------------------------------

    def server_time(self) -> float:
        return time.time() + self.skew

    def handle(self, request: Request) -> Any:
        """Every answer signed, as bank gateways sign theirs (`signing.response_signature_headers`): the
        status, the request's nonce, the bank's time and the body, under the app secret. A fault that
        truncates the body on the wire breaks the signature, as a cut answer would."""
        out = super().handle(request)
        if request.path.startswith("/_sandbox/"):
            return out
        nonce = request.headers.get(signing.HEADER_NONCE) or ""
        out.headers.update(
            signing.response_signature_headers(
                self.credentials.secret, out.status, nonce, out.body, timestamp=int(self.server_time())
            )
        )
        return out

    def authenticate(self, request: Request) -> None:
        headers = request.headers
        app_id = headers.get(signing.HEADER_APP_ID) or ""
        timestamp_text = headers.get(signing.HEADER_TIMESTAMP) or ""
        nonce = headers.get(signing.HEADER_NONCE) or ""
        signature = headers.get(signing.HEADER_SIGNATURE) or ""
        if not hmac.compare_digest(app_id.encode(), self.credentials.app_id.encode()):
            raise HttpError(401, UNKNOWN_APP_ID, "应用标识不存在")
        now = self.server_time()
        try:
            timestamp = int(timestamp_text)
        except ValueError:
            timestamp = None
        if timestamp is None or abs(now - timestamp) > self.window:
            raise HttpError(
                401,
                TIMESTAMP_OUT_OF_WINDOW,
                f"时间戳超出允许范围（±{self.window} 秒）",
                headers={signing.HEADER_SERVER_TIME: str(int(now))},
            )
        if not signature or not signing.verify(
            self.credentials.secret,
            signature,
            request.method,
            request.path,
            request.query,
            request.body,
            app_id=app_id,
            timestamp=timestamp,
            nonce=nonce,
        ):
            raise HttpError(401, SIGNATURE_MISMATCH, "签名验证失败")
        if len(nonce) < 16 or not self.nonces.use(nonce):
            raise HttpError(401, NONCE_REUSED, "随机数重复使用")

    # -- statements ---------------------------------------------------------------------------------------

    def listing(self, date_from: date, date_to: date) -> list[FileVersion]:
        return self.world.statement_files(self.bank, date_from, date_to)

    def statement_bytes(self, name: str) -> bytes:
        parsed = files.parse_file_name(name)
        if parsed is None or parsed[0] != self.bank or not self.world.holds(self.bank, parsed[1]):
            raise HttpError(404, 40400, "文件不存在")
        _, account, first, last, version = parsed
        if first != last:
            raise HttpError(404, 40400, "文件不存在")
        published = {(f.day, f.version): f for f in self.world.account_files(self.bank, account, first, first)}
        found = published.get((first, version))
        if found is None:
            raise HttpError(404, 40400, "文件不存在或尚未生成")
        lines = self.world.statement_lines(account, first, first, found.omitted_seq if version == 1 else None)
        return files.write_statement(self.bank, account, lines, first, first)

    def export_bytes(self, date_from: date, date_to: date, account_no: str | None = None) -> tuple[str, bytes]:
        """A period statement of one account (the general one unless named: the file a clerk downloads
        by hand), up to the last published day."""
        last_published = self.world.now_bj.date() - timedelta(days=1 if self.world.now_bj.hour >= 6 else 2)
        date_to = min(date_to, last_published, self.world.end_on)
        if date_to < date_from:
            raise HttpError(400, 40000, "参数错误：所选期间尚无对账单")
        account = account_no or accounts.ACCOUNTS[self.bank]
        if account not in {held["account_no"] for held in self.world.bank_accounts(self.bank)}:
            raise HttpError(404, 40400, "账户不存在")
        lines = self.world.statement_lines(account, date_from, date_to)
        name = files.file_name(self.bank, account, date_from, date_to)
        return name, files.write_statement(self.bank, account, lines, date_from, date_to)

    def file_response(self, name: str, body: bytes) -> Response:
        content_type = files.XLSX_TYPE if name.endswith(".xlsx") else files.CONTENT_TYPES[self.bank]
        return Response(
            body=body,
            content_type=content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
            },
        )

    def landing_files(self, date_from: date, date_to: date, *, period: bool = False) -> list[tuple[str, bytes]]:
        if period:
            return [
                self.export_bytes(date_from, date_to, account["account_no"])
                for account in self.world.bank_accounts(self.bank)
            ]
        out = []
        for version in self.listing(date_from, date_to):
            name = files.file_name(self.bank, version.account_no, version.day, version.day, version.version)
            out.append((name, self.statement_bytes(name)))
        return out

    # -- paging -------------------------------------------------------------------------------------------

    def encode_cursor(self, updated: str, loan_no: str) -> str:
        payload = json.dumps([updated, loan_no], separators=(",", ":")).encode()
        signature = hmac.new(self.cursor_key, payload, hashlib.sha256).hexdigest()[:16]
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature

    def decode_cursor(self, token: str) -> tuple[str, str]:
        body, _, signature = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise HttpError(400, 40001, "游标无效") from exc
        expected = hmac.new(self.cursor_key, payload, hashlib.sha256).hexdigest()[:16]
        if not hmac.compare_digest(signature, expected):
            raise HttpError(400, 40001, "游标无效")
        updated, loan_no = json.loads(payload)
        return updated, loan_no

    def loan_page(self, since: datetime | None, *, after=None, offset: int = 0, limit: int, duplicate=False):  # noqa: ANN001, ANN201
        """Rows of (loan_no, updated UTC text, loan as of now); `limit + 1` to tell whether more follow."""
        since_key = _utc_key(since) if since else None
        if duplicate and offset > 0:
            offset -= 1
        return self.world.loan_page(
            self.bank, since=since_key, after=after, offset=offset, limit=limit + 1, include_after=duplicate
        )

    # -- control ------------------------------------------------------------------------------------------

    def get_clock(self, request: Request) -> Response:
        return json_response({"now": self.world.now.astimezone(BUSINESS_TZ).isoformat()})

    def set_clock(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("now"), str):
            raise HttpError(400, 40000, 'expected {"now": "2026-03-31T18:00:00+08:00"}')
        moment = _parse_moment(body["now"], "now")
        assert moment is not None
        self.world.set_clock(moment)
        return self.get_clock(request)

    def get_skew(self, request: Request) -> Response:
        return json_response({"seconds": self.skew})

    def set_skew(self, request: Request) -> Response:
        body = request.json()
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise HttpError(400, 40000, 'expected {"seconds": 600}')
        self.skew = float(seconds)
        return self.get_skew(request)

    def landing(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("folder"), str):
            raise HttpError(400, 40000, 'expected {"folder": "...", "date_from": "20250101", "date_to": "..."}')
        folder = Path(body["folder"])
        written = self.write_landing(
            folder,
            _parse_day(body.get("date_from"), "date_from"),
            _parse_day(body.get("date_to"), "date_to"),
            period=bool(body.get("period")),
        )
        return json_response({"folder": str(folder), "files": [path.name for path in written]})

    def write_landing(self, folder: Path, date_from: date, date_to: date, *, period: bool = False) -> list[Path]:
        """Drop the files of the range (as published by now) into `folder`, as an SFTP drop would."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, body in self.landing_files(date_from, date_to, period=period):
            temp = folder / f".{name}.part"
            temp.write_bytes(body)
            temp.replace(folder / name)
            written.append(folder / name)
        return written

    # -- collection accounts and supervision (docs/bank_accounts_api.md) ---------------------------------

    accounts_path = ""  # the bank's path of its account list; supervision records under `+ "/supervision"`

    def add_account_routes(self, router: Router) -> None:
        if self.accounts_path:
            router.add("GET", self.accounts_path, self.account_list)
            router.add("GET", self.accounts_path + "/supervision", self.supervision_list)

    def wrap(self, data: dict[str, Any]) -> dict[str, Any]:
        """The bank's success envelope around `data` (each bank has its own)."""
        raise NotImplementedError

    def account_list(self, request: Request) -> Response:
        self.authenticate(request)
        items = [
            {
                "account_no": account["account_no"],
                "account_name": accounts.DEVELOPER_NAME,
                "account_type": "监管户" if account["kind"] == "supervised" else "一般户",
                "permit_no": account["permit_no"],
                "project_name": account["project_name"],
                "building": account["building"],
                "key_supervision_amount": _yuan(account["key_supervision_fen"]),
            }
            for account in self.world.bank_accounts(self.bank)
        ]
        return json_response(self.wrap({"accounts": items}), records=items)

    def supervision_list(self, request: Request) -> Response:
        self.authenticate(request)
        first = _parse_day(request.query.get("date_from"), "date_from")
        last = _parse_day(request.query.get("date_to"), "date_to")
        items = [
            {
                "record_no": record["record_no"],
                "record_type": "退款审批" if record["record_type"] == "refund_approval" else "监管资金拨付",
                "account_no": record["account_no"],
                "counter_account_no": record["counter_account_no"],
                "permit_no": record["permit_no"],
                "contract_no": record["contract_no"],
                "milestone": record["milestone"],
                "amount": _yuan(record["amount_fen"]),
                "allowed_amount": _yuan(record["allowed_fen"]),
                "retained_amount": _yuan(record["required_fen"]),
                "approved_at": _compact(record["at"] + "+08:00"),
            }
            for record in self.world.supervision_records(self.bank, first, last)
        ]
        return json_response(self.wrap({"records": items}), records=items)

    def truth(self, request: Request) -> Response:
        kind = request.query.get("kind") or None
        rows = [row for row in self.world.ground_truth(kind) if row["bank"] == self.bank]
        return json_response({"bank": self.bank, "rows": rows})


class IcbcServer(BankServer):
    bank = "icbc"
    name = "bank_icbc"
    prefix = "/api/icbc/v1"

    def add_api_routes(self, router: Router) -> None:
        router.add("GET", f"{self.prefix}/loans", self.loans)
        router.add("GET", f"{self.prefix}/statements", self.statements)
        router.add("GET", f"{self.prefix}/statements/export", self.export)
        router.add("GET", f"{self.prefix}/statements/{{file_name}}", self.download)
        self.add_account_routes(router)

    accounts_path = "/api/icbc/v1/accounts"

    def wrap(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.ok(data)

    def error_payload(self, code: int, message: str) -> Any:
        return {"return_code": str(code), "return_msg": message, "data": None}

    def corrupter(self) -> Corrupter:
        return Corrupter(
            key_field="loan_no", date_field="update_time", price_paths=("apply_amt",), id_paths=("cert_no",)
        )

    @staticmethod
    def ok(data: Any) -> dict[str, Any]:
        return {"return_code": "0", "return_msg": "success", "data": data}

    def loans(self, request: Request) -> Response:
        self.authenticate(request)
        query = request.query
        page_no = _int_param(query.get("page_no"), "page_no", 1, 1, 1_000_000)
        size = _int_param(query.get("page_size"), "page_size", 100, 1, MAX_PAGE)
        since = _parse_moment(query.get("updated_since"), "updated_since")
        rows = self.loan_page(since, offset=(page_no - 1) * size, limit=size, duplicate=request.wants_duplicate)
        records = [self.record(loan) for _, _, loan in rows[:size]]
        data = {"page_no": page_no, "page_size": size, "has_next": len(rows) > size, "records": records}
        return json_response(self.ok(data), records=records)

    @staticmethod
    def record(loan: dict) -> dict[str, Any]:
        return {
            "loan_no": loan["loan_no"],
            "contract_no": loan["contract_no"] if loan["shows_contract_no"] else "",
            "borrower_name": loan["borrower_name"],
            "cert_type": ICBC_CERT_TYPES.get(loan["borrower_id_type"], "99"),
            "cert_no": loan["borrower_id_number"],
            "house_addr": loan["property_address"],
            "loan_type": "个人住房商业贷款",
            "branch_name": loan["branch"],
            "apply_amt": loan["applied_fen"],
            "approve_amt": loan["approved_fen"],
            "loan_amt": loan["disbursed_fen"],
            "guarantee_amt": loan.get("guarantee_fen") or None,
            "guarantee_release_time": _compact(loan["guarantee_released_at"])
            if loan.get("guarantee_released_at")
            else None,
            "related_loan_no": loan.get("linked_loan_no") or "",
            "stage_code": ICBC_STAGE_CODES[loan["stage"]],
            "stage_name": loan["stage"],
            "stage_list": [
                {"stage_code": ICBC_STAGE_CODES[e["stage"]], "stage_name": e["stage"], "stage_time": _compact(e["at"])}
                for e in loan["events"]
            ],
            "update_time": _compact(loan["updated_at"]),
        }

    def statements(self, request: Request) -> Response:
        self.authenticate(request)
        first = _parse_day(request.query.get("date_from"), "date_from")
        last = _parse_day(request.query.get("date_to"), "date_to")
        items = [
            {
                "file_name": files.file_name(self.bank, f.account_no, f.day, f.day, f.version),
                "account_no": f.account_no,
                "date": f"{f.day:%Y%m%d}",
                "version": f.version,
                "published_at": _compact(f.published_at.isoformat()),
            }
            for f in self.listing(first, last)
        ]
        return json_response(self.ok({"files": items}))

    def download(self, request: Request) -> Response:
        self.authenticate(request)
        name = request.params["file_name"]
        return self.file_response(name, self.statement_bytes(name))

    def export(self, request: Request) -> Response:
        self.authenticate(request)
        first = _parse_day(request.query.get("date_from"), "date_from")
        last = _parse_day(request.query.get("date_to"), "date_to")
        return self.file_response(*self.export_bytes(first, last, request.query.get("account_no") or None))


class CcbServer(BankServer):
    bank = "ccb"
    name = "bank_ccb"

    def add_api_routes(self, router: Router) -> None:
        router.add("POST", "/ccb/loan/progress/query", self.loans)
        router.add("POST", "/ccb/statement/list", self.statements)
        router.add("GET", "/ccb/statement/download", self.download)
        router.add("GET", "/ccb/statement/export", self.export)
        self.add_account_routes(router)

    accounts_path = "/ccb/account/list"

    def wrap(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.ok(data)

    def error_payload(self, code: int, message: str) -> Any:
        return {"code": str(code), "msg": message, "result": None}

    def corrupter(self) -> Corrupter:
        return Corrupter(key_field="loanNo", date_field="updateTime", price_paths=("applyAmount",), id_paths=("idNo",))

    @staticmethod
    def ok(result: Any) -> dict[str, Any]:
        return {"code": "000000", "msg": "成功", "result": result}

    def _body(self, request: Request) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, 40000, "参数错误：请求体须为 JSON 对象")
        return body

    def loans(self, request: Request) -> Response:
        self.authenticate(request)
        body = self._body(request)
        limit = _int_param(str(body.get("limit") or ""), "limit", 100, 1, MAX_PAGE)
        since = _parse_moment(body.get("updatedSince"), "updatedSince")
        cursor = body.get("cursor")
        after = self.decode_cursor(cursor) if cursor else None
        # a `duplicate` fault starts the page at the cursor's own record: the last one repeats
        rows = self.loan_page(since, after=after, limit=limit, duplicate=request.wants_duplicate)
        page = rows[:limit]
        items = [self.item(loan) for _, _, loan in page]
        next_cursor = self.encode_cursor(page[-1][1], page[-1][0]) if len(rows) > limit else None
        return json_response(self.ok({"items": items, "nextCursor": next_cursor}), records=items)

    @staticmethod
    def item(loan: dict) -> dict[str, Any]:
        return {
            "loanNo": loan["loan_no"],
            "buyContractNo": loan["contract_no"] if loan["shows_contract_no"] else None,
            "custName": loan["borrower_name"],
            "idType": loan["borrower_id_type"],
            "idNo": loan["borrower_id_number"],
            "houseAddress": loan["property_address"],
            "loanKind": "商业性个人住房贷款",
            "orgName": loan["branch"],
            "applyAmount": _yuan(loan["applied_fen"]),
            "approveAmount": _yuan(loan["approved_fen"]),
            "lendAmount": _yuan(loan["disbursed_fen"]),
            "guaranteeAmount": _yuan(loan.get("guarantee_fen") or None),
            "guaranteeReleaseTime": _spaced(loan["guarantee_released_at"])
            if loan.get("guarantee_released_at")
            else None,
            "relatedLoanNo": loan.get("linked_loan_no"),
            "status": loan["stage"],
            "history": [{"status": e["stage"], "time": _spaced(e["at"])} for e in loan["events"]],
            "updateTime": _spaced(loan["updated_at"]),
        }

    def statements(self, request: Request) -> Response:
        self.authenticate(request)
        body = self._body(request)
        first = _parse_day(body.get("startDate"), "startDate")
        last = _parse_day(body.get("endDate"), "endDate")
        items = [
            {
                "fileName": files.file_name(self.bank, f.account_no, f.day, f.day, f.version),
                "acctNo": f.account_no,
                "tranDate": f"{f.day:%Y%m%d}",
                "version": f.version,
                "publishTime": f.published_at.strftime("%Y-%m-%d %H:%M:%S"),
            }
            for f in self.listing(first, last)
        ]
        return json_response(self.ok({"files": items}))

    def download(self, request: Request) -> Response:
        self.authenticate(request)
        name = request.query.get("fileName") or ""
        return self.file_response(name, self.statement_bytes(name))

    def export(self, request: Request) -> Response:
        self.authenticate(request)
        first = _parse_day(request.query.get("startDate"), "startDate")
        last = _parse_day(request.query.get("endDate"), "endDate")
        return self.file_response(*self.export_bytes(first, last, request.query.get("account_no") or None))


class CmbServer(BankServer):
    bank = "cmb"
    name = "bank_cmb"

    def add_api_routes(self, router: Router) -> None:
        router.add("GET", "/cmb/api/mortgage/v2/applications", self.loans)
        router.add("GET", "/cmb/api/statement/v1/files", self.statements)
        router.add("GET", "/cmb/api/statement/v1/export", self.export)
        router.add("GET", "/cmb/api/statement/v1/files/{name}", self.download)
        self.add_account_routes(router)

    accounts_path = "/cmb/api/account/v1/accounts"

    def wrap(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"success": True, "errorCode": None, "errorMsg": None, "data": data}

    def error_payload(self, code: int, message: str) -> Any:
        return {"success": False, "errorCode": str(code), "errorMsg": message, "data": None}

    def corrupter(self) -> Corrupter:
        return Corrupter(
            key_field="applicationId",
            date_field="updatedAt",
            price_paths=("amounts.applied",),
            id_paths=("applicant.certNo",),
        )

    def loans(self, request: Request) -> Response:
        self.authenticate(request)
        query = request.query
        offset = _int_param(query.get("offset"), "offset", 0, 0, 10**9)
        limit = _int_param(query.get("limit"), "limit", 50, 1, MAX_PAGE)
        since = _parse_moment(query.get("since"), "since")
        rows = self.loan_page(since, offset=offset, limit=limit, duplicate=request.wants_duplicate)
        data = [self.application(loan) for _, _, loan in rows[:limit]]
        payload = {"success": True, "errorCode": None, "errorMsg": None, "data": data, "hasMore": len(rows) > limit}
        return json_response(payload, records=data)

    @staticmethod
    def application(loan: dict) -> dict[str, Any]:
        return {
            "applicationId": loan["loan_no"],
            "relatedApplicationId": loan.get("linked_loan_no"),
            "houseContractNo": loan["contract_no"] if loan["shows_contract_no"] else None,
            "applicant": {
                "name": loan["borrower_name"],
                "certType": CMB_CERT_TYPES.get(loan["borrower_id_type"], "OTHER"),
                "certNo": loan["borrower_id_number"],
            },
            "property": {"address": loan["property_address"]},
            "productType": "MORTGAGE",
            "branch": loan["branch"],
            "amounts": {
                "applied": _yuan(loan["applied_fen"]),
                "approved": _yuan(loan["approved_fen"]),
                "disbursed": _yuan(loan["disbursed_fen"]),
                "guarantee": _yuan(loan.get("guarantee_fen") or None),
            },
            "guaranteeReleasedAt": loan.get("guarantee_released_at"),
            "stage": CMB_STAGE_CODES[loan["stage"]],
            "timeline": [{"stage": CMB_STAGE_CODES[e["stage"]], "at": e["at"]} for e in loan["events"]],
            "updatedAt": loan["updated_at"],
        }

    def statements(self, request: Request) -> Response:
        self.authenticate(request)
        first = _parse_day(request.query.get("from"), "from")
        last = _parse_day(request.query.get("to"), "to")
        data = [
            {
                "name": files.file_name(self.bank, f.account_no, f.day, f.day, f.version),
                "account": f.account_no,
                "date": f.day.isoformat(),
                "version": f.version,
                "publishedAt": f.published_at.isoformat() + "+08:00",
            }
            for f in self.listing(first, last)
        ]
        return json_response({"success": True, "errorCode": None, "errorMsg": None, "data": data})

    def download(self, request: Request) -> Response:
        self.authenticate(request)
        name = request.params["name"]
        return self.file_response(name, self.statement_bytes(name))

    def export(self, request: Request) -> Response:
        self.authenticate(request)
        first = _parse_day(request.query.get("from"), "from")
        last = _parse_day(request.query.get("to"), "to")
        return self.file_response(*self.export_bytes(first, last, request.query.get("account_no") or None))


class HpfServer(BankServer):
    """The provident-fund centre: no loan API, only the daily loan list as an Excel file."""

    bank = "hpf"
    name = "bank_hpf"

    def add_api_routes(self, router: Router) -> None:
        router.add("GET", "/hpf/api/loan-lists", self.lists)
        router.add("GET", "/hpf/api/loan-lists/{file_name}", self.download)

    def error_payload(self, code: int, message: str) -> Any:
        return {"code": code, "message": message, "data": None}

    def published_days(self, first: date, last: date) -> list[tuple[date, datetime]]:
        now = self.world.now_bj
        days = []
        day = max(first, self.world.start_on)
        while day <= min(last, self.world.end_on):
            published = datetime.combine(day + timedelta(days=1), PUBLISH_AT)
            if published <= now:
                days.append((day, published))
            day += timedelta(days=1)
        return days

    def lists(self, request: Request) -> Response:
        self.authenticate(request)
        first = _parse_day(request.query.get("date_from"), "date_from")
        last = _parse_day(request.query.get("date_to"), "date_to")
        data = [
            {"file_name": files.hpf_file_name(day), "date": day.isoformat(), "published_at": at.isoformat() + "+08:00"}
            for day, at in self.published_days(first, last)
        ]
        return json_response({"code": 0, "message": "ok", "data": data})

    def list_bytes(self, day: date) -> bytes:
        moment = datetime.combine(day, datetime.max.time()).replace(microsecond=0)
        return files.write_hpf_list(self.world.iter_loans_as_of("hpf", moment), day)

    def download(self, request: Request) -> Response:
        self.authenticate(request)
        name = request.params["file_name"]
        day = next(
            (
                d
                for d, _ in self.published_days(self.world.start_on, self.world.end_on)
                if files.hpf_file_name(d) == name
            ),
            None,
        )
        if day is None:
            raise HttpError(404, 40400, "文件不存在或尚未生成")
        return self.file_response(name, self.list_bytes(day))

    def listing(self, date_from: date, date_to: date) -> list[FileVersion]:
        return []

    def landing_files(self, date_from: date, date_to: date, *, period: bool = False) -> list[tuple[str, bytes]]:
        return [(files.hpf_file_name(day), self.list_bytes(day)) for day, _ in self.published_days(date_from, date_to)]


SERVERS: dict[str, type[BankServer]] = {"icbc": IcbcServer, "ccb": CcbServer, "cmb": CmbServer, "hpf": HpfServer}


def default_credentials(code: str, seed: int) -> Credentials:
    """The sandbox's own fake app id and secret of a bank (not a secret of any real system)."""
    secret = hashlib.sha256(f"estatehub-sandbox:{code}:{seed}".encode()).hexdigest()
    return Credentials(app_id=f"estatehub-{code}", secret=secret)


@dataclass
class BankServers:
    """The running bank servers: `urls` and `credentials` by bank code, `stop()` to end them all."""

    servers: dict[str, BankServer]
    bank_world_path: Path

    @property
    def urls(self) -> dict[str, str]:
        return {code: server.url for code, server in self.servers.items()}

    @property
    def credentials(self) -> dict[str, Credentials]:
        return {code: server.credentials for code, server in self.servers.items()}

    def set_clock(self, now: datetime) -> None:
        for server in self.servers.values():
            server.world.set_clock(now)

    def write_landing(self, folder: str | Path, date_from: date, date_to: date) -> list[Path]:
        written: list[Path] = []
        for code, server in self.servers.items():
            written += server.write_landing(Path(folder) / code, date_from, date_to)
        return written

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> BankServers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_bank_servers(
    world_path: str | Path,
    *,
    seed: int,
    host: str = "127.0.0.1",
    clock: datetime | None = None,
    faults: dict[str, Any] | None = None,
    skew: dict[str, float] | None = None,
    banks: tuple[str, ...] = accounts.LOAN_BANKS,
) -> BankServers:
    """Start one server per bank (`icbc`, `ccb`, `cmb`, `hpf`) over the world at `world_path`.

    `faults` maps a bank code to its fault rules (see `sandbox.faults`); `skew` a bank code to the
    seconds its signature clock is off. Credentials are `default_credentials(code, seed)`.
    """
    bank_world = ensure_bank_world(world_path)
    started: dict[str, BankServer] = {}
    try:
        for code in banks:
            server = SERVERS[code](
                bank_world,
                credentials=default_credentials(code, seed),
                host=host,
                faults=(faults or {}).get(code),
                clock=clock,
                skew=(skew or {}).get(code, 0.0),
            )
            started[code] = server.start()
    except BaseException:
        for server in started.values():
            server.stop()
        raise
    log.info("bank servers: %s", ", ".join(f"{c} {s.url}" for c, s in started.items()))
    return BankServers(started, bank_world)
