from typing import Any

import pytest

from tests.fixtures.fix_sns import *  # noqa: F403


@pytest.fixture
def hooks(settings: Any) -> Any:
    """Record every hook call (add after the backend settings: changing settings resets plugins)."""
    from pymess.testing import hook_recorder

    settings.PYMESS_PLUGINS = [hook_recorder.__name__]
    hook_recorder.reset()
    yield hook_recorder
    hook_recorder.reset()
