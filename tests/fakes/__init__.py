"""Local fakes of SMS providers, for tests and benchmarks (127.0.0.1 only)."""
