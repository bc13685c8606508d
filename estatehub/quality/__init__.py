"""Quality gates: each source checked before anything is reconciled or reported from it."""
