"""The supervisors' page in a running Airflow: `airflow api-server` with a throw-away AIRFLOW_HOME, a
SQLite metadata database and the simple auth manager (every user an admin: a test has no login
form), the project's plugins folder, and a warehouse the hourly health check has just judged.

Headless Chromium opens the Airflow UI at the plugin's entry (`/plugin/supervisors`), as a supervisor
clicking "Supervisors" in the side bar would, and leaves a screenshot in
`var/test-artifacts/supervisors_page.png` for a person to look at. Needs the Debian `chromium`
package and a CJK font (`make browser`); under CI=true a missing browser fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from estatehub.connections import SMTP_CONN_ID
from estatehub.freshness.rules import load_rules
from estatehub.health.check import check_health
from estatehub.mail import SmtpSender
from sandbox.smtp import MailSink
from tests.conftest import TEST_PII_KEY
from tests.health.test_supervisors_page import PHONE, seed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "var" / "test-artifacts" / "supervisors_page.png"
AIRFLOW = Path(sys.executable).parent / "airflow"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
START_TIMEOUT_S = 75


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("headless Chromium is missing: `make browser` installs the Debian chromium package")
    pytest.skip("headless Chromium is missing: `make browser` installs the Debian chromium package")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def airflow_env(home: Path, warehouse_db: Path, smtp_url: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW_CONN_WAREHOUSE": json.dumps(
                {"conn_type": "sqlite", "host": str(warehouse_db), "extra": {"pii_key": TEST_PII_KEY.decode()}}
            ),
            "AIRFLOW_CONN_SMTP_DEFAULT": smtp_url,
        }
    )
    return env


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback, a URL we built
        return response.status, response.read().decode("utf-8")


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"airflow api-server exited ({server.returncode}); see {log}:\n{log.read_text()[-3000:]}")
        try:
            if get(f"{base}/api/v2/monitor/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"airflow api-server did not answer within {START_TIMEOUT_S} s; see {log}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # its own process group: the server and its worker, nothing else
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def test_the_supervisors_page_in_the_airflow_ui_shows_what_to_act_on(tmp_path, monkeypatch):
    browser = chromium()
    started = time.monotonic()
    home = tmp_path / "airflow"
    home.mkdir()
    warehouse_db = tmp_path / "warehouse.db"
    with MailSink(tmp_path / "mail") as sink:
        smtp_url = (
            f"smtp://{sink.host}:{sink.port}?disable_ssl=true&disable_tls=true&from_email=estatehub@estatehub.example"
        )
        env = airflow_env(home, warehouse_db, smtp_url)

        # the metadata database, and at the same time the warehouse and one hourly health check
        migrate = subprocess.Popen(
            [str(AIRFLOW), "db", "migrate"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        from estatehub.warehouse import Warehouse

        warehouse = Warehouse.from_url(warehouse_db, pii_key=TEST_PII_KEY)
        warehouse.prepare()
        now = datetime.now(UTC)
        seed(warehouse, now, any_time=True)
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_url)
        result = check_health(warehouse, load_rules(), SmtpSender(SMTP_CONN_ID).send, now=now)
        warehouse.dispose()
        assert result.alerted == result.found > 0
        [alert] = sink.messages()
        assert "数据时效告警" in alert["Subject"]
        assert migrate.wait(timeout=120) == 0, "airflow db migrate failed"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "api-server.log"
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            [str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(base, server, log)

        status, plugins = get(f"{base}/api/v2/plugins")
        [view] = [v for p in json.loads(plugins)["plugins"] for v in p["external_views"]]
        assert (view["name"], view["url_route"], view["destination"]) == ("Supervisors", "supervisors", "nav")

        status, html = get(f"{base}/supervisors/")
        assert status == 200
        assert "过期 stale" in html and "icbc 6222**********5678" in html and "未到 late" in html
        assert "sync_stale" not in html and "待发送 due" not in html, "the findings were told, with their time"
        assert "trading_network/contracts" in html and PHONE not in html

        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        ARTIFACT.unlink(missing_ok=True)
        shot = subprocess.run(
            [
                browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=1400,1100", "--virtual-time-budget=20000", "--dump-dom", f"--screenshot={ARTIFACT}",
                f"{base}/auth/token/login?next=/plugin/supervisors",
            ],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert ARTIFACT.exists(), f"no screenshot: {shot.stderr[-2000:]}"
        assert 'src="supervisors/"' in shot.stdout and 'title="Supervisors"' in shot.stdout, (
            "the Airflow UI frames the page at its nav entry"
        )
        from PIL import Image

        with Image.open(ARTIFACT) as image:
            assert image.size == (1400, 1100)
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
            assert len(colours) > 200, "a page with text, badges and the Airflow side bar, not a blank frame"
    finally:
        stop(server)
    assert time.monotonic() - started < 150, "the slow test stays well under its budget"
