"""Django settings for the throwaway django-pymess 0.7.6 benchmark project.

Everything variable comes from PYMESS_BENCH_* environment variables set by
run_baseline.py, so the same module serves PostgreSQL and SQLite runs.
"""

import os

SECRET_KEY = "pymess-benchmark-only-not-secret"
DEBUG = False  # DEBUG=True would keep every SQL query in memory
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = []
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "pymess",
]

_DB = os.environ.get("PYMESS_BENCH_DB", "sqlite")
if _DB == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PYMESS_BENCH_PG_DBNAME", "pymess_bench_baseline"),
            "USER": os.environ.get("PYMESS_BENCH_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PYMESS_BENCH_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("PYMESS_BENCH_PG_PORT", "5432"),
        }
    }
elif _DB == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PYMESS_BENCH_SQLITE_PATH", "pymess_bench_baseline.sqlite3"),
        }
    }
else:
    raise RuntimeError(f'PYMESS_BENCH_DB must be "postgres" or "sqlite", got {_DB!r}')

# --- django-pymess 0.7.6 configuration -------------------------------------
# Messages created by pymess.backend.sms.send() stay in state WAITING and are
# only published by `manage.py send_messages_batch --type sms`.
PYMESS_SMS_BATCH_SENDING = True
PYMESS_SMS_BATCH_SIZE = int(os.environ.get("PYMESS_BENCH_BATCH_SIZE", "20"))
PYMESS_SMS_BACKENDS = {
    "default": {
        "backend": "fake_sms_backend.FakeProviderSMSBackend",
        "config": {
            "url": os.environ.get("PYMESS_BENCH_PROVIDER_URL", "http://127.0.0.1:8999"),
            "timeout": 10,
        },
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
