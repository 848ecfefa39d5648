"""Sessions for the whole monorepo: ``nox -l`` lists them.

``tests`` is what the README and CI run: the full suite on SQLite, then on
PostgreSQL (required under CI, skipped with a notice when unreachable locally).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "types", "migrations"]
nox.options.reuse_existing_virtualenvs = True

CORE = "pymess-core"
PLUGINS = {
    "sns": "pymess-sns",
    "twilio": "pymess-twilio",
    "ats": "pymess-ats",
    "smsoperator": "pymess-smsoperator",
}
EXAMPLE_PLUGIN = "examples/pymess-example-plugin"
TEST_DEPS = [
    "pytest>=8",
    "pytest-django>=4.8",
    "psycopg[binary]>=3.1",
    "moto[server]>=5",
    "playwright>=1.40",
    "celery[redis]>=5.3",
    "redis>=5",
    "django-tasks-db>=0.12; python_version<'3.12'",
]
DJANGO_FOR_PYTHON = {"3.11": "5.2", "3.12": "6.0", "3.13": "6.1"}
MATRIX = [("3.11", "5.2"), ("3.12", "6.0"), ("3.13", "6.1")]


def _existing(*paths: str) -> list[str]:
    return [p for p in paths if (ROOT / p / "pyproject.toml").exists()]


def _install_everything(session: nox.Session, django: str) -> None:
    packages = _existing(CORE, *PLUGINS.values(), EXAMPLE_PLUGIN)
    editable = [arg for p in packages for arg in ("-e", p)]
    extras = ["-e", f"{CORE}[http,tasks,celery]"] if (ROOT / CORE).exists() else []
    session.install(*editable, *extras, f"django~={django}.0", *TEST_DEPS)


def _postgres_reachable() -> bool:
    host = os.environ.get("PYMESS_TEST_PG_HOST", "127.0.0.1")
    port = int(os.environ.get("PYMESS_TEST_PG_PORT", "5432"))
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _run_suite(session: nox.Session, *args: str) -> None:
    session.run("pytest", *args, env={"PYMESS_TEST_DB": "sqlite"})
    if _postgres_reachable():
        session.run("pytest", *args, env={"PYMESS_TEST_DB": "postgres"})
    elif os.environ.get("CI"):
        session.error("PostgreSQL is not reachable at 127.0.0.1:5432; CI needs it.")
    else:
        session.warn("PostgreSQL not reachable: the PostgreSQL run was NOT done.")


@nox.session
def tests(session: nox.Session) -> None:
    """The full suite on this interpreter (SQLite, then PostgreSQL)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    django = os.environ.get("PYMESS_DJANGO", DJANGO_FOR_PYTHON.get(version, "5.2"))
    _install_everything(session, django)
    _run_suite(session, *session.posargs)


@nox.session(name="matrix")
@nox.parametrize(("python", "django"), MATRIX, ids=[f"py{p}-dj{d}" for p, d in MATRIX])
def matrix(session: nox.Session, django: str) -> None:
    """The suite for each supported Python/Django pair."""
    _install_everything(session, django)
    _run_suite(session, *session.posargs)


@nox.session
@nox.parametrize("plugin", [None, *PLUGINS])
def partial(session: nox.Session, plugin: str | None) -> None:
    """Core alone, and core plus one plugin: each package works by itself."""
    packages = [CORE] + ([PLUGINS[plugin]] if plugin else [])
    session.install(*packages, "django~=5.2.0", *TEST_DEPS)
    if plugin is None:
        session.run("pytest", "tests/core", env={"PYMESS_TEST_DB": "sqlite"})
    else:
        session.run(
            "pytest", f"tests/providers/{plugin}", "tests/core/test_registry.py",
            env={"PYMESS_TEST_DB": "sqlite"},
        )


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def types(session: nox.Session) -> None:
    packages = _existing(CORE, *PLUGINS.values())
    session.install(*[a for p in packages for a in ("-e", p)], "django~=5.2.0", "mypy>=1.10",
                    "django-stubs>=5.1", "types-requests", "types-lxml", "boto3-stubs[sns]")
    session.run("mypy", *[f"{p}/src" for p in packages])


@nox.session
def migrations(session: nox.Session) -> None:
    """Checked-in migrations match the models."""
    session.install("-e", CORE, "django~=5.2.0", "pytest-django")
    session.run(
        "python", "-m", "django", "makemigrations", "--check", "--dry-run",
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs with warnings as errors."""
    _install_everything(session, "5.2")
    session.install("-r", "docs/requirements.txt")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", "docs/_build/doctest")


@nox.session
def demo(session: nox.Session) -> None:
    session.run("python", "scripts/demo.py", external=True)
