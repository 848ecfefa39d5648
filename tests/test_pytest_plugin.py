"""``sms_outbox`` in a fresh Django project built from the documentation alone.

The project is made by ``django-admin startproject``, gets ``pymess`` added as
the quick start says, and then exactly the files the "Testing your code that
sends SMS" page shows (its ``.. test: file PATH`` blocks). pytest runs in a
subprocess there, so the plugin is found through its ``pytest11`` entry point
as in a user's project - no conftest, no settings from this repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fixtures.fix_docs import DOCS, blocks, file_blocks

pytestmark = pytest.mark.slow


def quickstart_settings() -> str:
    """The quick start's settings the project applies (``.. test: settings apply``)."""
    applied = [b.code for b in blocks(DOCS / "quickstart.rst") if b.marker == "settings apply"]
    assert applied, "the quick start shows no settings to apply"
    return "\n".join(applied)


def make_project(root: Path, extra_settings: str = "") -> Path:
    root.mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "myproject", str(root)],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    settings = root / "myproject" / "settings.py"
    settings.write_text(
        settings.read_text()
        + '\nINSTALLED_APPS += ["pymess"]\n'
        + quickstart_settings()
        + extra_settings
    )
    files = file_blocks()
    assert {"pyproject.toml", "tests/test_sms.py"} <= set(files), sorted(files)
    for relative, block in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.code)
    return root


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.pop("PYTHONPATH", None)
    return env


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )


def documented_test_count() -> int:
    return sum(
        len(re.findall(r"^\s*def test_", block.code, re.M))
        for path, block in file_blocks().items()
        if path.endswith(".py")
    )


def test_documented_tests_pass_in_a_fresh_project(tmp_path):
    root = make_project(tmp_path / "fresh")

    result = run_pytest(root)

    expected = documented_test_count()
    assert expected >= 5
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{expected} passed" in result.stdout, result.stdout


EXTRA_TESTS = textwrap.dedent(
    """
    import pytest

    from pymess.backend.sms import send

    pytestmark = pytest.mark.django_db


    def test_every_alias_goes_to_the_outbox(sms_outbox):
        send("+420777123456", "Hello", backend_alias="marketing")
        send("+420777123456", "Hi")

        aliases = [m.backend_alias for m in sms_outbox.filter(to="777 123 456")]
        assert aliases == ["marketing", "default"]


    def test_outbox_is_empty_at_start_and_lists_messages_on_failure(sms_outbox):
        assert len(sms_outbox) == 0
        send("+420777123456", "Your code is 1234")
        sms_outbox.assert_sent(to="+420777000111")


    def test_not_using_the_fixture_uses_the_project_backend():
        from pymess.backend.sms import get_backend

        assert get_backend().alias == "default"
        assert type(get_backend()).__name__ == "DummySMSBackend"
    """
)


def test_outbox_redirects_named_backends_and_explains_failures(tmp_path):
    # A project whose backends could not be used in tests: unknown or uninstalled names.
    root = make_project(
        tmp_path / "named",
        extra_settings=textwrap.dedent(
            """
            PYMESS_SMS_BACKENDS = {
                "default": {"BACKEND": "dummy"},
                "marketing": {"BACKEND": "not_installed_provider"},
            }
            """
        ),
    )
    (root / "tests" / "test_extra.py").write_text(EXTRA_TESTS)

    result = run_pytest(root, "tests/test_extra.py")

    output = result.stdout + result.stderr
    assert "2 passed, 1 failed" in output or "1 failed, 2 passed" in output, output
    assert "test_outbox_is_empty_at_start_and_lists_messages_on_failure" in output
    assert "Expected at least one SMS to +420777000111, found 0." in output, output
    assert "1. to +420777123456: 'Your code is 1234' (SENT)" in output, output
