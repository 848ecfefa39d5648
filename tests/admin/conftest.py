from tests.fixtures.fix_admin import *  # noqa: F403
