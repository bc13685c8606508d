"""Airflow glue only: hooks that build estatehub's clients from Connections, notifiers, listeners."""
