"""ATS backend tests: fixtures from tests/fixtures/fix_ats.py."""

from tests.fixtures.fix_ats import *  # noqa: F403
