"""What a user would pick instead of estatehub, run by the benchmark table against the same sandbox."""
