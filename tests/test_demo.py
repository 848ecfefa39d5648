"""The README's first command: ``python scripts/demo.py`` and the example project it runs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_demo_script():
    spec = importlib.util.spec_from_file_location(
        "pymess_demo_script", ROOT / "scripts" / "demo.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_demo(db: Path) -> str:
    """The demo with this interpreter (pymess-core is installed here) instead of .venv-demo."""
    result = subprocess.run(
        [sys.executable, "scripts/demo.py", "--python", sys.executable, "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("demo") / "demo.sqlite3"


@pytest.fixture(scope="module")
def demo_output(demo_db) -> str:
    return run_demo(demo_db)


def table(output: str) -> list[dict[str, str]]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("id  recipient"))
    header = lines[start].split()
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        # Columns are separated by two or more spaces; "default (DummySMSBackend)" has one.
        cells = [c for c in line.split("  ") if c.strip()]
        rows.append(dict(zip(header, (c.strip() for c in cells), strict=True)))
    return rows


def test_demo_sends_plain_template_and_batch_and_prints_the_table(demo_output):
    assert "$ python example/manage.py send_messages_batch --type=sms" in demo_output
    assert "3 messages queued (#3 WAITING, #4 WAITING, #5 WAITING)" in demo_output
    assert "sent 3 / failed 0" in demo_output
    rows = table(demo_output)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert {r["state"] for r in rows} == {"DEBUG"}
    assert {r["backend"] for r in rows} == {"default (DummySMSBackend)"}
    plain, templated, *batch = rows
    assert (plain["recipient"], plain["encoding"], plain["template/locale"]) == (
        "+420777123456",
        "GSM-7",
        "-",
    )
    # Asked for cs-cz; the cs template answered; Czech accents need UCS-2.
    assert (templated["template/locale"], templated["encoding"]) == ("order-shipped/cs", "UCS-2")
    assert [r["tag"] for r in batch] == ["newsletter"] * 3
    assert [r["segments"] for r in batch] == ["1", "1", "2"]


def test_demo_is_repeatable(demo_output, demo_db):
    """A second run starts again from a fresh database and prints the same table."""
    assert demo_db.exists()
    assert table(run_demo(demo_db)) == table(demo_output)


def test_venv_is_reused_while_pymess_core_is_unchanged(tmp_path, monkeypatch):
    demo = load_demo_script()
    calls: list[list[str]] = []
    monkeypatch.setattr(demo, "run", lambda command, **kw: calls.append([str(c) for c in command]))
    venv_dir = tmp_path / "venv"
    python = demo.venv_python(venv_dir)
    python.parent.mkdir(parents=True)
    python.touch()  # an existing venv: nothing is created

    demo.ensure_venv(venv_dir)  # no stamp yet: full install
    assert calls[-1][-1] == str(demo.CORE)
    assert "--no-deps" not in calls[-1]
    demo.ensure_venv(venv_dir)  # unchanged: nothing to do
    assert len(calls) == 1
    (venv_dir / demo.STAMP_NAME).write_text("stale\n")
    demo.ensure_venv(venv_dir)  # sources changed: pymess-core alone is rebuilt
    assert "--force-reinstall" in calls[-1]
    assert "--no-deps" in calls[-1]
    assert (venv_dir / demo.STAMP_NAME).read_text().strip() == demo.source_fingerprint()


def test_example_project_is_consistent(tmp_path):
    env_args = {"cwd": ROOT, "capture_output": True, "text": True, "timeout": 120, "check": False}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "PYMESS_EXAMPLE_DB": str(tmp_path / "check.sqlite3"),
    }
    for command in (
        ["check", "--fail-level", "WARNING"],
        ["makemigrations", "--check", "--dry-run"],
    ):
        result = subprocess.run(
            [sys.executable, "example/manage.py", *command], env=env, **env_args
        )
        assert result.returncode == 0, result.stdout + result.stderr
