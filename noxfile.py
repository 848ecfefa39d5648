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


def _expose_pyenv_interpreters() -> None:
    """Let pyenv shims answer ``python3.12``/``python3.13`` too (the matrix needs them).

    A shim that started us may already have set ``PYENV_VERSION`` to one version;
    the others are appended after it.
    """
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not versions.is_dir():
        return
    current = f"{sys.version_info.major}.{sys.version_info.minor}."
    found = sorted(p.name for p in versions.iterdir() if p.name.startswith("3."))
    preset = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    ordered = [
        *preset,
        *(v for v in found if v.startswith(current)),
        *(v for v in found if not v.startswith(current)),
    ]
    if ordered:
        os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys(ordered))


_expose_pyenv_interpreters()
# uv must use the interpreters on this machine; it may not download its own.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
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
    "django-tasks-db>=0.13",
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
    # A file, not :memory:, so the multi-process worker tests share it on SQLite too.
    sqlite_file = Path(session.create_tmp()) / "pymess-test.sqlite3"
    session.run(
        "pytest",
        *args,
        env={"PYMESS_TEST_DB": "sqlite", "PYMESS_TEST_SQLITE_TEST_NAME": str(sqlite_file)},
    )
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
    packages = [f"./{CORE}"] + ([f"./{PLUGINS[plugin]}"] if plugin else [])
    session.install(*packages, "django~=5.2.0", *TEST_DEPS)
    env = {"PYMESS_TEST_DB": "sqlite"}
    if plugin is None:
        session.run("pytest", "tests/core", env=env)
        # The plugins really are absent here: each documented path must name its pip install.
        for name, distribution in MISSING_PLUGIN_NAMES.items():
            session.run(
                "python",
                "-c",
                _MISSING_PLUGIN_CHECK.format(name=name, distribution=distribution),
                env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)},
            )
    else:
        session.run("pytest", f"tests/providers/{plugin}", "tests/core/test_registry.py", env=env)


MISSING_PLUGIN_NAMES = {
    "sns": "pymess-sns",
    "twilio": "pymess-twilio",
    "ats": "pymess-ats",
    "sms_operator": "pymess-smsoperator",
    "pymess.backend.sms.sns.SNSSMSBackend": "pymess-sns",
    "pymess.backend.sms.twilio.TwilioSMSBackend": "pymess-twilio",
    "pymess.backend.sms.ats_sms_operator.ATSSMSBackend": "pymess-ats",
    "pymess.backend.sms.sms_operator.SMSOperatorBackend": "pymess-smsoperator",
}
_MISSING_PLUGIN_CHECK = """
import django
django.setup()
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from pymess.backend.sms import send
with override_settings(PYMESS_SMS_SENDER_BACKEND="{name}"):
    try:
        send("+420777123456", "x")
    except ImproperlyConfigured as exc:
        assert "pip install {distribution}" in str(exc), exc
        print("ok:", exc)
    else:
        raise SystemExit("backend {name!r} resolved although {distribution} is not installed")
"""


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def types(session: nox.Session) -> None:
    packages = _existing(CORE, *PLUGINS.values())
    session.install(
        *[a for p in packages for a in ("-e", p)],
        "django~=5.2.0",
        "mypy>=1.10",
        "django-stubs>=5.1",
        "types-requests",
        "types-lxml",
        "boto3-stubs[sns]",
    )
    session.run("mypy", *[f"{p}/src" for p in packages])


@nox.session
def migrations(session: nox.Session) -> None:
    """Checked-in migrations match the models."""
    session.install("-e", CORE, "django~=5.2.0", "pytest-django")
    session.run(
        "python",
        "-m",
        "django",
        "makemigrations",
        "--check",
        "--dry-run",
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs with warnings as errors."""
    _install_everything(session, "5.2")
    session.install("-r", "docs/requirements.txt")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", "docs/_build/doctest"
    )


@nox.session
def demo(session: nox.Session) -> None:
    session.run("python", "scripts/demo.py", external=True)


@nox.session
def packaging(session: nox.Session) -> None:
    """Build every distribution, check it, and install each set from the wheels in a clean venv."""
    import shutil
    import tempfile

    session.install("twine")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    packages = _existing(CORE, *PLUGINS.values())
    for package in packages:
        session.run("uv", "build", "--quiet", "--sdist", "--wheel", "--out-dir", str(dist), package)
    built = sorted([*dist.glob("*.whl"), *dist.glob("*.tar.gz")])
    session.run("twine", "check", "--strict", *map(str, built))

    # Each plugin with its backend configured, plus core alone, installed from wheels only.
    check_settings = {
        None: {"PYMESS_SMS_SENDER_BACKEND": "dummy"},
        "pymess-sns": {
            "PYMESS_SMS_SENDER_BACKEND": "sns",
            "PYMESS_SNS_SMS_CONFIG": {
                "AWS_ACCESS_KEY_ID": "k",
                "AWS_SECRET_ACCESS_KEY": "s",
                "AWS_REGION": "eu-west-1",
            },
        },
        "pymess-twilio": {
            "PYMESS_SMS_SENDER_BACKEND": "twilio",
            "PYMESS_TWILIO_SMS_CONFIG": {
                "ACCOUNT_SID": "AC" + "0" * 32,
                "AUTH_TOKEN": "t",
                "SENDER": "+15005550006",
            },
        },
        "pymess-ats": {
            "PYMESS_SMS_SENDER_BACKEND": "ats",
            "PYMESS_ATS_SMS_CONFIG": {
                "USERNAME": "u",
                "PASSWORD": "p",
                "OUTPUT_SENDER_NUMBER": "+420777000000",
                "PROJECT_KEYWORD": "kw",
            },
        },
        "pymess-smsoperator": {
            "PYMESS_SMS_SENDER_BACKEND": "sms_operator",
            "PYMESS_SMS_OPERATOR_CONFIG": {"USERNAME": "u", "PASSWORD": "p"},
        },
    }
    for plugin, extra_settings in check_settings.items():
        if plugin is not None and plugin not in packages:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            venv_dir = Path(tmp) / "venv"
            python = str(venv_dir / "bin" / "python")
            # The built wheels by file name: never an editable install, never PyPI's copy.
            wanted = ["pymess_core"] + ([plugin.replace("-", "_")] if plugin else [])
            wheels = [str(w) for name in wanted for w in dist.glob(f"{name}-*.whl")]
            session.run("uv", "venv", "--quiet", "--python", sys.executable, str(venv_dir))
            session.run("uv", "pip", "install", "--quiet", "--python", python, *wheels)
            settings_py = Path(tmp) / "check_settings.py"
            settings_py.write_text(
                "SECRET_KEY = 'x'\nUSE_TZ = True\n"
                "INSTALLED_APPS = ['django.contrib.contenttypes', 'pymess']\n"
                "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3',"
                " 'NAME': ':memory:'}}\n"
                + "".join(f"{k} = {v!r}\n" for k, v in extra_settings.items())
            )
            session.run(
                python,
                "-m",
                "django",
                "check",
                "--fail-level",
                "WARNING",
                env={"DJANGO_SETTINGS_MODULE": "check_settings", "PYTHONPATH": tmp},
                external=True,
            )
            session.run(
                python,
                "-c",
                "import pymess, importlib.metadata as m; "
                "print('installed', sorted(d.metadata['Name'] for d in m.distributions() "
                "if d.metadata['Name'].startswith('pymess')))",
                external=True,
            )


@nox.session
def bench(session: nox.Session) -> None:
    """Batch-sending benchmark (not a test): pymess 1 and 2 workers vs django-pymess 0.7.6.

    Needs the local PostgreSQL; the baseline builds its own Python 3.12 venv.
    Extra arguments go to benchmarks/run_all.py (e.g. ``-- --memory-messages 100000``).
    """
    session.install("-e", CORE, "django~=5.2.0", "psycopg[binary]>=3.1")
    session.run("python", "benchmarks/run_all.py", *session.posargs, env={"PYTHONPATH": str(ROOT)})
