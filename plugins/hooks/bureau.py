"""Hook for the real estate bureau's website: owns the optional `bureau_site` Connection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from estatehub.connections import BUREAU_SITE_CONN_ID
from hooks.base import ConnectionHook

if TYPE_CHECKING:
    from estatehub.policy.config import PolicyConfig


class BureauHook(ConnectionHook):
    """Where the policy monitor reads the bureau's site (`estatehub.policy.runtime.bureau_config`).

    Connection (optional): host = the site's base URL (a proxy or mirror; the sandbox in the demo),
    replacing `site.base_url` of the watch file. The fetcher's politeness (interval, timeout, retries,
    allowed hosts) comes from the watch file.
    """

    conn_name_attr = "bureau_site_conn_id"
    default_conn_name = BUREAU_SITE_CONN_ID
    conn_type = "http"
    hook_name = "Real estate bureau website"
    conn_help = "host = the site's base URL (optional: without it the watch file's site.base_url is read)"

    def __init__(self, bureau_site_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.bureau_site_conn_id = bureau_site_conn_id

    def get_conn(self) -> str:
        """The base URL of the Connection (which must exist)."""
        from estatehub.policy.runtime import bureau_base_url

        return self.build(bureau_base_url, self.connection())

    def watch_config(self, path: str | Path | None = None) -> PolicyConfig:
        """The watch file (`path`, default config/policy_watches.yaml) with the Connection's base URL, if any."""
        from estatehub.policy.runtime import bureau_config

        return bureau_config(self.optional_connection(), path)
