"""pytest plugin (entry point ``pytest11``): the ``sms_outbox`` fixture.

Loaded in every pytest run where pymess-core is installed, so it imports
nothing from Django at module level; the fixture needs configured Django
settings (pytest-django) only when a test uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pymess.testing.assertions import SMSOutbox


@pytest.fixture
def sms_outbox() -> Iterator[SMSOutbox]:
    """Send every SMS of the test through the in-memory backend; yield its outbox.

    All backend aliases are redirected, so no provider is called whatever the
    project's settings say. The outbox is empty when the test starts and is
    emptied again afterwards. Combine it with pytest-django's ``db`` fixture
    (or ``django_db`` mark) to store messages.
    """
    from pymess.testing.assertions import capture_sms

    with capture_sms() as outbox:
        yield outbox
