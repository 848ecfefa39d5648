"""pytest plugin (entry point ``pytest11``): the ``sms_outbox`` fixture.

Loaded in every pytest run where pymess-core is installed, so it imports
nothing from Django at module level.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def sms_outbox(settings: Any) -> Iterator[list[Any]]:
    """Switch to the in-memory backend and yield its outbox (emptied before and after)."""
    from pymess.backend.sms import locmem

    settings.PYMESS_SMS_BACKENDS = None
    settings.PYMESS_SMS_SENDER_BACKEND = "locmem"
    locmem.reset()
    yield locmem.outbox
    locmem.reset()
