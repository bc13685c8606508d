"""What every estatehub hook shares: finding its one Connection, and naming it in every complaint about it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from estatehub.connections import ConnectionConfigError

if TYPE_CHECKING:
    from airflow.sdk import Connection

T = TypeVar("T")


class ConnectionHook(BaseHook):
    """A hook that owns one Connection (`conn_name_attr` holds its id) and hands it to a builder of estatehub.

    Subclasses say in `conn_help` what the Connection holds: it is shown when the Connection is missing.
    """

    conn_help: ClassVar[str] = ""

    @property
    def conn_id(self) -> str:
        return getattr(self, self.conn_name_attr)

    def connection(self) -> Connection:
        """The Connection, through Airflow's lookup (environment, secrets backends, metadata database)."""
        try:
            return self.get_connection(self.conn_id)
        except AirflowNotFoundException as exc:
            raise AirflowNotFoundException(
                f"no Connection {self.conn_id!r}: define it in Airflow or as AIRFLOW_CONN_{self.conn_id.upper()}; "
                f"{self.conn_help}"
            ) from exc

    def optional_connection(self) -> Connection | None:
        """The Connection, or None where estatehub has a default for it."""
        try:
            return self.get_connection(self.conn_id)
        except AirflowNotFoundException:
            return None

    def build(self, builder: Callable[..., T], conn: Any, *args: Any, **kwargs: Any) -> T:
        """`builder(conn, ...)`; a complaint about the Connection's fields names the Connection."""
        try:
            return builder(conn, *args, **kwargs)
        except ValueError as exc:  # ConnectionConfigError, or a client refusing a field's value
            if repr(self.conn_id) in str(exc):
                raise
            raise ConnectionConfigError(f"Connection {self.conn_id!r}: {exc}") from exc
