"""The manager's KPIs: periods, targets and the numbers, computed from the SQL models of `sql/kpi/`."""
