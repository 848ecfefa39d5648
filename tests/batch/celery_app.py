"""The Celery app of the dispatch tests (``celery -A tests.batch.celery_app worker``).

Configured from Django settings (``CELERY_*``), like a project's own app.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.batch.worker_settings")

app = Celery("pymess_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["pymess"], related_name="celery")
