"""The housing trading network (网签备案) as a source: its tables, how a batch of contracts is loaded
(raw → staging → core), and the sync the Airflow task and `estatehub sync trading-network` run."""
