"""SMS operator backend tests: fixtures from tests/fixtures/fix_smsoperator.py."""

from tests.fixtures.fix_smsoperator import *  # noqa: F403
