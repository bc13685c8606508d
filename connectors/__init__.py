"""Connectors to the outside systems: plain Python on requests, no Airflow imports."""
