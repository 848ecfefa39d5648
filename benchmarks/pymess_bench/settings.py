"""Django settings for the pymess benchmark processes (driven by environment variables).

``PYMESS_BENCH_DB_NAME`` (PostgreSQL on ``PYMESS_BENCH_PG_HOST``/``PORT``/``USER``,
default 127.0.0.1:5432 postgres), ``PYMESS_BENCH_BACKEND`` (``http`` or ``dummy``),
``PYMESS_BENCH_PROVIDER_URL``, ``PYMESS_BENCH_THREADS``, ``PYMESS_BENCH_BATCH_SIZE``.
"""

import os

SECRET_KEY = "pymess-benchmark-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["django.contrib.contenttypes", "pymess"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("PYMESS_BENCH_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("PYMESS_BENCH_PG_PORT", "5432"),
        "USER": os.environ.get("PYMESS_BENCH_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("PYMESS_BENCH_PG_PASSWORD", ""),
        "NAME": os.environ.get("PYMESS_BENCH_DB_NAME", "pymess_bench"),
    }
}

if os.environ.get("PYMESS_BENCH_BACKEND", "http") == "http":
    PYMESS_SMS_BACKENDS = {
        "default": {
            "BACKEND": "tests.batch.http_backend.HTTPTestBackend",
            "OPTIONS": {
                "URL": os.environ.get("PYMESS_BENCH_PROVIDER_URL", "http://127.0.0.1:1"),
                "TIMEOUT": 10,
            },
        }
    }
else:
    PYMESS_SMS_SENDER_BACKEND = "dummy"
PYMESS_SMS_WORKER_THREADS = int(os.environ.get("PYMESS_BENCH_THREADS", "32"))
PYMESS_SMS_BATCH_SIZE = int(os.environ.get("PYMESS_BENCH_BATCH_SIZE", "100"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"pymess": {"handlers": ["console"], "level": "WARNING"}},
}
