"""Settings for worker processes the batch tests start (``python -m django ...``).

Everything the test process wants the worker to see travels as JSON in
``PYMESS_BATCH_SETTINGS``; the database comes from the usual ``PYMESS_TEST_*``
variables, pointed at the live test database.
"""

import json
import os

from tests.settings import *  # noqa: F403

globals().update(json.loads(os.environ.get("PYMESS_BATCH_SETTINGS", "{}")))
