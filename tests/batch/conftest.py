from tests.fixtures.fix_batch import *  # noqa: F403
