"""What tests (and the test-only benchmarks beside them) share: fakes of the sources, warehouse snapshots."""
