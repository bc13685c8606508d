"""What the department's people receive: the finance report now, the KPI email and work lists next."""
