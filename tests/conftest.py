"""Shared fixtures. Fixture modules live in tests/fixtures/fix_*.py (psycopg-style)."""

import pytest


@pytest.fixture(autouse=True)
def _reset_pymess_caches():
    """Every test starts with fresh backends, plugins and an empty in-memory outbox."""
    from pymess.backend.sms import locmem
    from pymess.backend.sms.registry import reset_backends
    from pymess.plugins import reset_plugins

    reset_backends()
    reset_plugins()
    locmem.reset()
    yield
    reset_backends()
    reset_plugins()
