"""PYMESS_SMS_DISPATCH: cron, Django Tasks (immediate and database worker), Celery (real worker).

Every path runs the same claim → send → record code and claims exactly its own
primary keys, so a task delivered twice sends once.
"""

from __future__ import annotations

import importlib.util
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from pymess.backend.sms import send
from pymess.enums import OutputSMSMessageState as State
from pymess.models import OutputSMSMessage
from tests.fixtures.fix_batch import http_backends
from tests.services import require

_TASKS_MODULE = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
IMMEDIATE = {"default": {"BACKEND": f"{_TASKS_MODULE}.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
needs_tasks = pytest.mark.skipif(
    not importlib.util.find_spec("django.tasks") and not importlib.util.find_spec("django_tasks"),
    reason="needs Django 6 or the django-tasks backport (pip install 'pymess-core[tasks]')",
)


def require_tasks_db() -> None:
    pytest.importorskip("django_tasks_db", reason="the database tasks backend is not installed")


@pytest.fixture
def batch_mode(settings):
    settings.PYMESS_SMS_BATCH_SENDING = True
    return settings


@pytest.mark.django_db
def test_cron_dispatch_leaves_messages_for_the_command(
    batch_mode, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = send("+420777123456", "hi")
    assert callbacks == []
    message.refresh_from_db()
    assert message.state == State.WAITING
    assert len(sms_outbox) == 0


@pytest.mark.django_db
def test_unknown_dispatch_is_a_configuration_error(batch_mode):
    batch_mode.PYMESS_SMS_DISPATCH = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match="PYMESS_SMS_DISPATCH"):
        send("+420777123456", "hi")


@needs_tasks
@pytest.mark.django_db
def test_tasks_immediate_backend_sends_on_commit_and_duplicates_send_once(
    batch_mode, sms_outbox, django_capture_on_commit_callbacks
):
    from pymess.tasks import send_sms_messages

    batch_mode.PYMESS_SMS_DISPATCH = "tasks"
    batch_mode.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = send("+420777123456", "hi")
    message.refresh_from_db()
    assert message.state == State.WAITING  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    message.refresh_from_db()
    assert message.state == State.SENT
    assert len(sms_outbox) == 1

    result = send_sms_messages.enqueue(pks=[message.pk])  # delivered again
    assert result.return_value["sent"] == 0
    assert len(sms_outbox) == 1


@needs_tasks
@pytest.mark.django_db(transaction=True)
def test_tasks_rolled_back_transaction_enqueues_nothing(batch_mode, sms_outbox):
    batch_mode.PYMESS_SMS_DISPATCH = "tasks"
    batch_mode.TASKS = IMMEDIATE

    def send_then_fail() -> None:
        with transaction.atomic():
            send("+420777123456", "hi")
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        send_then_fail()
    assert len(sms_outbox) == 0
    assert not OutputSMSMessage.objects.exists()


@needs_tasks
@pytest.mark.django_db
def test_tasks_immediate_backend_leaves_scheduled_messages_to_the_sweeper(
    batch_mode, sms_outbox, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    batch_mode.PYMESS_SMS_DISPATCH = "tasks"
    batch_mode.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        message = send("+420777123456", "later", send_at=timezone.now() + timedelta(hours=1))
    message.refresh_from_db()
    assert message.state == State.WAITING
    assert len(sms_outbox) == 0


def _db_worker(workers, settings: dict) -> str:
    process = workers.start(
        settings, "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0.1"
    )
    return workers.wait(process, timeout=60)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_tasks_database_backend_with_its_worker(batch_mode, fake_provider, workers):
    """django-tasks-db: send() enqueues on commit; its db_worker process sends, once."""
    require_tasks_db()
    from pymess.tasks import send_sms_messages

    provider = fake_provider()
    batch_mode.PYMESS_SMS_DISPATCH = "tasks"
    batch_mode.TASKS = DATABASE
    batch_mode.PYMESS_SMS_BACKENDS = http_backends(provider.url)
    with transaction.atomic():
        messages = [send("+420777123456", f"hello {i}") for i in range(20)]
    pks = [m.pk for m in messages]
    send_sms_messages.enqueue(pks=pks[:10])  # duplicate deliveries of ten of them

    _db_worker(
        workers,
        {
            "TASKS": DATABASE,
            "PYMESS_SMS_DISPATCH": "tasks",
            "PYMESS_SMS_BACKENDS": http_backends(provider.url),
        },
    )

    assert sorted(int(i) for i in provider.accepted_ids()) == pks
    assert set(OutputSMSMessage.objects.values_list("state", flat=True)) == {State.SENT}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_tasks_database_backend_requeues_retries_with_a_delay(batch_mode, fake_provider, workers):
    require_tasks_db()
    provider = fake_provider()
    config = {
        "TASKS": DATABASE,
        "PYMESS_SMS_DISPATCH": "tasks",
        "PYMESS_SMS_BACKENDS": http_backends(provider.url),
        "PYMESS_SMS_RETRY_BASE_DELAY": 0.5,
        "PYMESS_SMS_RETRY_MAX_ATTEMPTS": 2,
    }
    for name, value in config.items():
        setattr(batch_mode, name, value)
    with transaction.atomic():
        message = send("+420777123456", "fail:500")
    _db_worker(workers, config)  # first attempt; the retry is enqueued for later
    message.refresh_from_db()
    assert message.state == State.ERROR_RETRY
    time.sleep(0.6)
    _db_worker(workers, config)  # the deferred retry runs
    message.refresh_from_db()
    assert message.state == State.ERROR
    assert message.number_of_send_attempts == 2
    assert provider.log() == [(str(message.pk), 500)] * 2


@pytest.fixture
def celery_queue(batch_mode, fake_provider, workers):
    """A Celery worker on the local Redis, on a queue of its own, and matching settings here."""
    require("redis")
    from tests.batch.celery_app import app

    provider = fake_provider()
    queue = f"pymess-batch-{uuid.uuid4().hex}"
    config = {
        "PYMESS_SMS_DISPATCH": "celery",
        "PYMESS_SMS_BACKENDS": http_backends(provider.url),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
    }
    for name, value in config.items():
        setattr(batch_mode, name, value)
    app.conf.update(broker_url=config["CELERY_BROKER_URL"], task_default_queue=queue)
    process = workers.start(
        config,
        "-A",
        "tests.batch.celery_app",
        "worker",
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        queue,
        "--loglevel=INFO",
        module="celery",
    )
    yield provider, process
    import signal

    process.send_signal(signal.SIGTERM)
    process.wait(20)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_celery_with_a_real_worker_sends_once(celery_queue, workers):
    from pymess.celery import send_sms_messages

    provider, process = celery_queue
    with transaction.atomic():
        messages = [send("+420777123456", f"hello {i}") for i in range(10)]
        assert provider.accepted_ids() == []  # nothing leaves before the commit
    pks = [m.pk for m in messages]
    send_sms_messages.apply_async((pks[:5],))  # a duplicate delivery
    deadline = time.monotonic() + 45
    while OutputSMSMessage.objects.filter(state=State.SENT).count() < 10:
        assert time.monotonic() < deadline, workers.output(process)
        time.sleep(0.1)
    time.sleep(0.5)  # let the duplicate task finish too
    assert sorted(int(i) for i in provider.accepted_ids()) == pks
