"""The supervisors' page in the Airflow UI: the health of every pipeline on one page (issue 12 §5).

A FastAPI app mounted by the api-server at `/supervisors` (`fastapi_apps`), with an entry in the UI's
navigation (`external_views`, destination `nav`) that shows it inside Airflow. Server-rendered HTML
(Jinja2, `plugins/templates/supervisors_page.html`) from the warehouse of the `warehouse` Connection
(`hooks.warehouse.WarehouseHook`), judged by the freshness rules (`config/freshness.yaml`, or the file
named by `$ESTATEHUB_FRESHNESS_RULES`). Only users the auth manager lets see the Airflow UI (the
WEBSITE view) get it: the same JWT as the rest of the UI.

What the page reads and why is `estatehub.health.page`; it never writes nor migrates.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

URL_PREFIX = "/supervisors"
TEMPLATES = Path(__file__).resolve().parent / "templates"
RULES_ENV = "ESTATEHUB_FRESHNESS_RULES"


def _environment() -> Environment:
    from estatehub.freshness.rules import format_duration
    from estatehub.freshness.status import local

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["bj"] = local
    env.filters["duration"] = lambda value: format_duration(value) if value is not None else "—"
    return env


def render_page(view: Any = None, problem: str | None = None) -> str:
    """The page's HTML for a `SupervisorView` (or a one-line problem instead)."""
    return _environment().get_template("supervisors_page.html").render(view=view, problem=problem)


def build_page(now: datetime | None = None) -> str:
    """Read the warehouse of the `warehouse` Connection and render the page (blocking: run in a thread)."""
    from hooks.warehouse import WarehouseHook

    from estatehub.freshness.rules import load_rules
    from estatehub.health.page import SchemaBehind, supervisor_view

    rules = load_rules(os.environ.get(RULES_ENV) or None)
    warehouse = WarehouseHook().get_conn()
    try:
        view = supervisor_view(warehouse, rules, now or datetime.now(UTC))
    except SchemaBehind as exc:
        return render_page(problem=str(exc))
    finally:
        warehouse.dispose()
    return render_page(view)


app = FastAPI(title="estatehub supervisors' page", docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/", response_class=HTMLResponse, dependencies=[Depends(requires_access_view(AccessView.WEBSITE))])
async def supervisors_page() -> HTMLResponse:
    return HTMLResponse(await asyncio.to_thread(build_page))


class SupervisorsPagePlugin(AirflowPlugin):
    name = "estatehub_supervisors_page"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "estatehub supervisors' page"}]
    external_views = [
        {
            "name": "Supervisors",
            "href": "supervisors/",  # relative to the UI's base URL, as the plugin docs ask
            "destination": "nav",
            "nav_top_level": True,  # its own entry in the side bar, not under a menu
            "url_route": "supervisors",  # the UI shows it at /plugin/supervisors
        }
    ]
