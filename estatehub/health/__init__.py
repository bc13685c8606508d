"""Pipeline health for the supervisors (issue 12 §5): how fresh each source is, staleness alerts told once.

    rules = load_rules()                                   # config/freshness.yaml
    with engine.connect() as conn:
        status = freshness(conn, rules, now)               # every stream and expected daily file
    check_health(warehouse, rules, SmtpSender().send)      # the hourly DAG: store findings, tell the new ones

`estatehub.health.page` gathers what the supervisors' page shows.
"""
