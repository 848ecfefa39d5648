"""Helper run *inside* benchmarks/.venv-baseline by run_baseline.py.

Subcommands (all print machine-readable output on stdout, chatter on stderr):

  createdb   drop + create the PostgreSQL benchmark database
  dropdb     drop the PostgreSQL benchmark database
  seed N     create N WAITING SMS through pymess.backend.sms.send()
  worker     repeatedly run `send_messages_batch --type sms` until the queue is empty
  report     JSON summary of message states in the database

Needs DJANGO_SETTINGS_MODULE=bench_settings and PYTHONPATH containing this
directory (run_baseline.py sets both).
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
import time


def log(text):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --- PostgreSQL database lifecycle -------------------------------------------


def _pg_admin_connection():
    import psycopg2

    connection = psycopg2.connect(
        host=os.environ.get("PYMESS_BENCH_PG_HOST", "127.0.0.1"),
        port=os.environ.get("PYMESS_BENCH_PG_PORT", "5432"),
        user=os.environ.get("PYMESS_BENCH_PG_USER", "postgres"),
        dbname="postgres",
        connect_timeout=10,
    )
    connection.autocommit = True
    return connection


def _pg_dbname():
    name = os.environ.get("PYMESS_BENCH_PG_DBNAME", "pymess_bench_baseline")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing unsafe database name {name!r}")
    return name


def _pg_admin_execute(sql):
    # No `with connection:` here: in psycopg2 that opens a transaction block, and
    # CREATE/DROP DATABASE must run outside one.
    connection = _pg_admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def cmd_dropdb(args):
    name = _pg_dbname()
    _pg_admin_execute(f"DROP DATABASE IF EXISTS {name}")
    log(f"dropped database {name} (if it existed)")


def cmd_createdb(args):
    cmd_dropdb(args)
    name = _pg_dbname()
    _pg_admin_execute(f"CREATE DATABASE {name}")
    log(f"created database {name}")


# --- Django-side commands ------------------------------------------------------


def _setup_django():
    import django

    django.setup()


def cmd_seed(args):
    _setup_django()
    from django.db import transaction

    from pymess.backend.sms import send
    from pymess.config import is_turned_on_sms_batch_sending

    assert is_turned_on_sms_batch_sending(), (
        "PYMESS_SMS_BATCH_SENDING must be True for the baseline"
    )
    started = time.perf_counter()
    chunk = 500
    for offset in range(0, args.count, chunk):
        with transaction.atomic():
            for number in range(offset, min(offset + chunk, args.count)):
                # send() with batch sending on only stores the message in state WAITING.
                send("+420777%06d" % number, "Benchmark message %d" % number)
    log("seeded %d waiting SMS in %.2fs" % (args.count, time.perf_counter() - started))


SENT_RE = re.compile(r"^sent messages: (\d+)", re.MULTILINE)
FAILED_RE = re.compile(r"^failed messages: (\d+)", re.MULTILINE)
LOCKED_TEXT = "messages are already locked"


def _run_command_in_process():
    from django.core.management import call_command

    buffer = io.StringIO()
    call_command("send_messages_batch", type="sms", stdout=buffer)
    return buffer.getvalue()


def _run_command_subprocess():
    # Exactly what a cron job would run: a fresh interpreter per invocation.
    result = subprocess.run(
        [sys.executable, "-m", "django", "send_messages_batch", "--type", "sms"],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log("send_messages_batch exited with %d" % result.returncode)
    return result.stdout


def cmd_worker(args):
    _setup_django()
    from django.db import connection

    connection.ensure_connection()
    run_once = (
        _run_command_subprocess if args.invocation == "subprocess" else _run_command_in_process
    )

    # Handshake: tell the harness we are warmed up, then wait for "go" so that
    # interpreter/Django start-up is excluded from the measured time.
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        return

    started = time.perf_counter()
    deadline = started + args.timeout
    # reported_* are what the command printed. A run that hits a lock part-way prints only
    # "messages are already locked", so messages it had already sent are not reported.
    stats = {
        "worker": os.environ.get("PYMESS_BENCH_WORKER"),
        "invocations": 0,
        "locked": 0,
        "reported_sent": 0,
        "reported_failed": 0,
        "timed_out": False,
    }
    while True:
        if time.perf_counter() > deadline:
            stats["timed_out"] = True
            break
        output = run_once()
        stats["invocations"] += 1
        if LOCKED_TEXT in output:
            # Another worker holds the row lock (SELECT ... FOR UPDATE NOWAIT failed); the
            # command gives up for this run. A cron job would simply run again later.
            stats["locked"] += 1
            continue
        sent_match, failed_match = SENT_RE.search(output), FAILED_RE.search(output)
        sent = int(sent_match.group(1)) if sent_match else 0
        failed = int(failed_match.group(1)) if failed_match else 0
        stats["reported_sent"] += sent
        stats["reported_failed"] += failed
        if sent == 0 and failed == 0:
            break  # the command found no WAITING / ERROR_RETRY message: queue drained
    stats["seconds"] = round(time.perf_counter() - started, 4)
    sys.stdout.write(json.dumps(stats) + "\n")
    sys.stdout.flush()


def cmd_report(args):
    _setup_django()
    from django.db.models import Count

    from pymess.models import OutputSMSMessage

    states = {
        OutputSMSMessage.State(row["state"]).name: row["n"]
        for row in OutputSMSMessage.objects.values("state")
        .annotate(n=Count("pk"))
        .order_by("state")
    }
    sent_by_worker = {}
    for extra in OutputSMSMessage.objects.filter(state=OutputSMSMessage.State.SENT).values_list(
        "extra_sender_data", flat=True
    ):
        worker = str((extra or {}).get("bench_worker"))
        sent_by_worker[worker] = sent_by_worker.get(worker, 0) + 1
    report = {
        "total": OutputSMSMessage.objects.count(),
        "sent_by_worker": dict(sorted(sent_by_worker.items())),
        "states": states,
        "multiple_send_attempts": OutputSMSMessage.objects.filter(
            number_of_send_attempts__gt=1
        ).count(),
    }
    sys.stdout.write(json.dumps(report) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    sub.required = True
    sub.add_parser("createdb").set_defaults(func=cmd_createdb)
    sub.add_parser("dropdb").set_defaults(func=cmd_dropdb)
    seed = sub.add_parser("seed")
    seed.add_argument("count", type=int)
    seed.set_defaults(func=cmd_seed)
    worker = sub.add_parser("worker")
    worker.add_argument("--invocation", choices=("inprocess", "subprocess"), default="inprocess")
    worker.add_argument("--timeout", type=float, default=600.0)
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("report").set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
