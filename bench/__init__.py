"""Benchmarks that print figures; not part of the test run (`make bench`, `python -m bench`)."""
