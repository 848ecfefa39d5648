"""Settings for pymess' own test suite.

``PYMESS_TEST_DB=postgres`` runs on the local PostgreSQL (127.0.0.1:5432, user
postgres, trust auth; override with ``PYMESS_TEST_PG_*``); the default is SQLite.
"""

import importlib.util
import os

SECRET_KEY = "pymess-tests-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
ROOT_URLCONF = "tests.urls"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pymess",
    "tests.testapp",
]

# Optional task queues, for the dispatch tests: installed when the packages are.
# django-tasks-db needs django.tasks (Django 6) or the django-tasks backport (5.2).
if importlib.util.find_spec("django_tasks_db"):
    if importlib.util.find_spec("django.tasks"):
        INSTALLED_APPS.append("django_tasks_db")
    elif importlib.util.find_spec("django_tasks"):
        INSTALLED_APPS += ["django_tasks", "django_tasks_db"]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if os.environ.get("PYMESS_TEST_DB", "sqlite") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PYMESS_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("PYMESS_TEST_PG_PORT", "5432"),
            "USER": os.environ.get("PYMESS_TEST_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("PYMESS_TEST_PG_PASSWORD", ""),
            "NAME": os.environ.get("PYMESS_TEST_PG_NAME", "postgres"),
            "TEST": {"NAME": os.environ.get("PYMESS_TEST_PG_TEST_NAME", "test_pymess")},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PYMESS_TEST_SQLITE_NAME", ":memory:"),
            "TEST": {"NAME": os.environ.get("PYMESS_TEST_SQLITE_TEST_NAME") or None},
        }
    }

STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PYMESS_SMS_DEFAULT_REGION = "CZ"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"pymess": {"handlers": ["null"], "level": "DEBUG", "propagate": True}},
}
