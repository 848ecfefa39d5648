#!/usr/bin/env python3
"""The pymess demo: ``python scripts/demo.py`` from the repository root.

Needs only Python 3.11+ with pip. It creates a virtualenv in ``.venv-demo``
(once), installs ``./pymess-core`` into it (again only when its sources
change), then runs the example project in ``example/`` against a fresh SQLite
database: a plain message, a template message with a locale, and a batch sent
by ``send_messages_batch --type=sms``, followed by a table of what happened.
Messages go to the dummy backend: nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "pymess-core"
EXAMPLE = ROOT / "example"
VENV = ROOT / ".venv-demo"
STAMP_NAME = "pymess-demo.stamp"


def venv_python(venv_dir: Path) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return venv_dir / scripts / ("python.exe" if os.name == "nt" else "python")


def source_fingerprint() -> str:
    """A hash of pymess-core's sources: the venv is reinstalled when it changes."""
    digest = hashlib.sha256()
    files = [CORE / "pyproject.toml", *sorted((CORE / "src").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(CORE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(venv_dir: Path = VENV) -> Path:
    """Create the demo venv and install pymess-core into it, unless that is already done."""
    python = venv_python(venv_dir)
    if not python.exists():
        print(f"==> creating a virtualenv in {venv_dir.name}/", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            sys.exit(
                f"demo: could not create {venv_dir} ({exc}). On Debian/Ubuntu install the "
                "python3-venv package; or pass --python with an interpreter that has "
                "pymess-core installed."
            )
    stamp = venv_dir / STAMP_NAME
    fingerprint = source_fingerprint()
    if stamp.exists() and stamp.read_text().strip() == fingerprint:
        print(f"==> reusing {venv_dir.name}/ (pymess-core unchanged)", flush=True)
        return python
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if stamp.exists():
        # Dependencies are in place: rebuild only pymess-core itself.
        print("==> pymess-core changed: reinstalling it", flush=True)
        run([*pip, "--force-reinstall", "--no-deps", CORE], cwd=ROOT, echo=False)
    else:
        print("==> installing ./pymess-core and its dependencies (first run only)", flush=True)
        run([*pip, CORE], cwd=ROOT, echo=False)
    stamp.write_text(fingerprint + "\n")
    return python


def run(
    command: list[object], *, cwd: Path, env: dict[str, str] | None = None, echo: bool = True
) -> None:
    args = [str(part) for part in command]
    if echo:
        shown = [Path(args[0]).name if i == 0 else a for i, a in enumerate(args)]
        print(f"\n$ {shlex.join(shown)}", flush=True)
    result = subprocess.run(args, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"demo: {shlex.join(args)} failed with exit code {result.returncode}")


def run_demo(python: Path, db: Path) -> None:
    """Migrate a fresh database, send, run the batch worker, report."""
    if db.exists():
        db.unlink()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "PYMESS_EXAMPLE_DB": str(db),
        "PYTHONUNBUFFERED": "1",
    }
    manage = ["example/manage.py"]
    for step in (
        ["migrate", "--verbosity=0"],
        ["pymess_demo", "send"],
        ["send_messages_batch", "--type=sms"],
        ["pymess_demo", "report"],
    ):
        run([python, *manage, *step], cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--python",
        type=Path,
        help="Use this interpreter (with pymess-core installed) instead of .venv-demo.",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=EXAMPLE / "db.sqlite3",
        help="SQLite file to (re)create (default: example/db.sqlite3).",
    )
    args = parser.parse_args(argv)
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may meet an older python3
        sys.exit("The pymess demo needs Python 3.11 or newer; run it with python3.11 or later.")
    python = args.python or ensure_venv()
    run_demo(python, args.db.resolve())
    db = args.db.resolve()
    shown = python.relative_to(ROOT) if python.is_relative_to(ROOT) else python
    print(
        "\nDone: the dummy backend stored every message as DEBUG (nothing was sent).\n"
        "Browse them in the admin:\n"
        f"  {shown} example/manage.py createsuperuser\n"
        f"  {shown} example/manage.py runserver   # then open http://127.0.0.1:8000/admin/"
        + ("" if db == (EXAMPLE / "db.sqlite3").resolve() else f"\n  (with PYMESS_EXAMPLE_DB={db})")
    )


if __name__ == "__main__":
    main()
