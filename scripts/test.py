#!/usr/bin/env python3
"""Run pymess' full test suite with nothing but Python 3.11+ and pip.

Creates ``.venv-nox`` (once), installs nox into it, then runs ``nox -s tests``:
every distribution installed into a fresh environment, the suite on SQLite and
on PostgreSQL when it is reachable at 127.0.0.1:5432. Extra arguments go to nox
(``python3 scripts/test.py -s lint types``); without any, the ``tests`` session runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-nox"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - a clear message on an old interpreter
        sys.exit("pymess needs Python 3.11 or newer.")
    if not (BIN / "nox").exists():
        print("Creating .venv-nox with nox ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        subprocess.run(
            [str(BIN / "python"), "-m", "pip", "install", "--quiet", "nox[uv]>=2024.10"], check=True
        )
    args = sys.argv[1:] or ["-s", "tests"]
    return subprocess.call([str(BIN / "nox"), "-f", str(ROOT / "noxfile.py"), *args], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
