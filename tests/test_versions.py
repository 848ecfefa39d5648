"""All distributions share one version, and plugins accept exactly that core series."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bump_version import CORE_DEP_RE, VERSION_RE, core_range, version_files  # noqa: E402


def read_versions():
    return {
        path.parts[-4]: VERSION_RE.search(path.read_text()).group(0).split('"')[1]
        for path in version_files()
    }


def test_every_distribution_has_the_same_version():
    versions = read_versions()
    assert "pymess-core" in versions
    assert len(set(versions.values())) == 1, versions


def test_plugins_depend_on_the_current_core_series():
    version = read_versions()["pymess-core"]
    for pyproject in ROOT.glob("pymess-*/pyproject.toml"):
        if pyproject.parent.name == "pymess-core":
            continue
        deps = CORE_DEP_RE.findall(pyproject.read_text())
        assert deps, f"{pyproject} does not depend on pymess-core with a range"
        match = re.search(r'"pymess-core(?:\[[^\]]*\])?(>=[^"]+)"', pyproject.read_text())
        assert match.group(1) == core_range(version), pyproject


def test_hatchling_reads_the_version_from_the_package():
    for pyproject in ROOT.glob("pymess-*/pyproject.toml"):
        text = pyproject.read_text()
        assert 'dynamic = ["version"]' in text, pyproject
        assert re.search(r'\[tool\.hatch\.version\]\npath = "src/\w+/__init__\.py"', text), (
            pyproject
        )
