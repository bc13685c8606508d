"""How fresh each source must be (`rules`, from `config/freshness.yaml`) and how fresh it is (`status`, from
the warehouse alone). One judgement, read by the staleness alerts and the supervisors' page
(`estatehub.health`) and by the quality gates before a reconciliation (`estatehub.quality`)."""
