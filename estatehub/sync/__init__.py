"""Sync jobs: what an Airflow task and the command line both run to bring a source into the warehouse."""
