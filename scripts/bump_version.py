#!/usr/bin/env python3
"""Move every distribution to one new version: ``python3 scripts/bump_version.py 0.2.0``.

The version lives in each package's ``__init__.py`` (hatchling reads it from
there); plugins depend on ``pymess-core>=X.Y,<X.(Y+1)``. This script rewrites
both so all five distributions move in lockstep; ``tests/test_versions.py``
fails if they ever disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_RE = re.compile(r'^__version__ = "[^"]+"$', re.MULTILINE)
CORE_DEP_RE = re.compile(r'"pymess-core(\[[^\]]*\])?>=[^,"]+,<[^"]+"')


def version_files() -> list[Path]:
    return sorted(ROOT.glob("pymess-*/src/*/__init__.py"))


def core_range(version: str) -> str:
    major, minor = (int(part) for part in version.split(".")[:2])
    return f">={major}.{minor},<{major}.{minor + 1}"


def main(version: str) -> None:
    if not re.fullmatch(r"\d+\.\d+\.\d+(?:[ab]\d+|rc\d+)?", version):
        sys.exit(f"Not a version: {version!r} (expected e.g. 0.2.0)")
    for path in version_files():
        text = VERSION_RE.sub(f'__version__ = "{version}"', path.read_text())
        path.write_text(text)
        print(f"{path.relative_to(ROOT)}: {version}")
    for pyproject in sorted(ROOT.glob("pymess-*/pyproject.toml")):
        text = CORE_DEP_RE.sub(
            lambda m: f'"pymess-core{m.group(1) or ""}{core_range(version)}"', pyproject.read_text()
        )
        pyproject.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
