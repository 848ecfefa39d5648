#!/usr/bin/env python3
"""Benchmark the original django-pymess 0.7.6 batch SMS sending.

Run with any Python 3.11+ (stdlib only); the package itself runs in a
Python 3.12 virtualenv at benchmarks/.venv-baseline that this script creates.

Steps: ensure venv -> start benchmarks/fake_provider.py (own process) ->
create database (PostgreSQL or SQLite) + migrate -> seed N WAITING SMS ->
run K workers, each repeatedly invoking `send_messages_batch --type sms`
until the queue is empty -> read provider /stats -> print ONE JSON line.

Progress goes to stderr; stdout carries only the result line.
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASELINE_DIR = Path(__file__).resolve().parent
BENCH_DIR = BASELINE_DIR.parent
VENV_DIR = BENCH_DIR / ".venv-baseline"
REQUIREMENTS = BASELINE_DIR / "requirements.txt"
FAKE_PROVIDER = BENCH_DIR / "fake_provider.py"
BENCH_TOOL = BASELINE_DIR / "bench_tool.py"
MARKER = VENV_DIR / ".pymess-bench-requirements.sha256"
IMPL_NAME = "django-pymess-0.7.6"


def log(text):
    sys.stderr.write(f"[baseline] {text}\n")
    sys.stderr.flush()


class BenchError(Exception):
    pass


# --- virtualenv ----------------------------------------------------------------


def _is_python312(executable):
    try:
        out = subprocess.run(
            [executable, "-c", 'import sys; print("%d.%d" % sys.version_info[:2])'],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "3.12"


def find_python312():
    candidates = []
    if os.environ.get("PYMESS_BASELINE_PYTHON"):
        candidates.append(os.environ["PYMESS_BASELINE_PYTHON"])
    if shutil.which("python3.12"):
        candidates.append(shutil.which("python3.12"))
    # A pyenv shim exists but fails when 3.12 is not the active version; look at the install directly.
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(
        glob.glob(os.path.join(pyenv_root, "versions", "3.12*", "bin", "python3.12")), reverse=True
    )
    candidates += ["/usr/local/bin/python3.12", "/usr/bin/python3.12"]
    for candidate in candidates:
        if _is_python312(candidate):
            return candidate
    raise BenchError(
        "Python 3.12 not found (tried: {}). Install it or set PYMESS_BASELINE_PYTHON=/path/to/python3.12".format(
            ", ".join(candidates)
        )
    )


def venv_python():
    return str(VENV_DIR / "bin" / "python")


def ensure_venv():
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if Path(venv_python()).exists() and MARKER.exists() and MARKER.read_text().strip() == wanted:
        check = subprocess.run(
            [
                venv_python(),
                "-c",
                "import importlib.metadata as m, pymess, django, requests, psycopg2, import_string; "
                'assert m.version("django-pymess") == "0.7.6", m.version("django-pymess"); '
                "assert django.VERSION[:2] == (3, 2), django.VERSION",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if check.returncode == 0:
            log(f"venv {VENV_DIR} is ready (skipping install)")
            return
    if not Path(venv_python()).exists():
        python312 = find_python312()
        log(f"creating venv {VENV_DIR} with {python312}")
        subprocess.run([python312, "-m", "venv", str(VENV_DIR)], check=True, stdout=sys.stderr)
    log(f"installing {REQUIREMENTS.name} into the venv")
    subprocess.run(
        [
            venv_python(),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
        stdout=sys.stderr,
    )
    MARKER.write_text(wanted + "\n")


# --- fake provider -------------------------------------------------------------


def start_provider(latency, tmpdir):
    port_file = os.path.join(tmpdir, "provider.port")
    log_file = open(os.path.join(tmpdir, "provider.log"), "w")
    process = subprocess.Popen(
        [
            sys.executable,
            str(FAKE_PROVIDER),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--latency",
            str(latency),
            "--port-file",
            port_file,
        ],
        stdout=log_file,
        stderr=log_file,
    )
    deadline = time.monotonic() + 15
    while not os.path.exists(port_file):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise BenchError(f"fake provider did not start, see {log_file.name}")
        time.sleep(0.05)
    with open(port_file) as handle:
        port = int(handle.read().strip())
    return process, "http://127.0.0.1:%d" % port


def provider_call(url, path, method="GET"):
    request = urllib.request.Request(
        url + path, data=b"" if method == "POST" else None, method=method
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def stop_process(process, timeout=10):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- venv helper calls ---------------------------------------------------------


def tool(env, *args, capture=False):
    result = subprocess.run(
        [venv_python(), str(BENCH_TOOL), *list(args)],
        env=env,
        stdout=subprocess.PIPE if capture else sys.stderr,
        text=True,
    )
    if result.returncode != 0:
        raise BenchError(
            "bench_tool.py %s failed with exit code %d" % (" ".join(args), result.returncode)
        )
    return result.stdout


def run_workers(env, count, invocation, timeout, tmpdir):
    workers = []
    for index in range(count):
        log_handle = open(os.path.join(tmpdir, "worker-%d.log" % index), "w")
        process = subprocess.Popen(
            [
                venv_python(),
                str(BENCH_TOOL),
                "worker",
                "--invocation",
                invocation,
                "--timeout",
                str(timeout),
            ],
            env=dict(env, PYMESS_BENCH_WORKER=str(index)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_handle,
            universal_newlines=True,
        )
        workers.append((process, log_handle))
    try:
        for process, log_handle in workers:
            if process.stdout.readline().strip() != "ready":
                raise BenchError(f"worker failed to start, see {log_handle.name}")
        started = time.perf_counter()
        for process, _ in workers:
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process, _log_handle in workers:
            line = process.stdout.readline()
            process.wait()
            results.append(
                json.loads(line)
                if line.strip()
                else {"crashed": True, "exit_code": process.returncode}
            )
        seconds = time.perf_counter() - started
    finally:
        for process, log_handle in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
            log_handle.close()
    return seconds, results


def count_logged_errors(tmpdir):
    tracebacks = 0
    for path in glob.glob(os.path.join(tmpdir, "worker-*.log")):
        with open(path, errors="replace") as handle:
            tracebacks += sum(1 for line in handle if line.startswith("Traceback"))
    return tracebacks


# --- main ----------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--messages", type=int, default=2000, help="number of SMS to queue (default 2000)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.05, help="fake provider latency in seconds (0.05)"
    )
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--workers", type=int, default=1, help="concurrent copies of the batch command (1)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=20,
        help="PYMESS_SMS_BATCH_SIZE = messages per command run (0.7.6 default: 20)",
    )
    parser.add_argument(
        "--invocation",
        choices=("inprocess", "subprocess"),
        default="inprocess",
        help="inprocess: call_command in a warm worker (default); "
        "subprocess: fresh `python -m django send_messages_batch` per run, like cron",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="per-worker time limit in seconds (default: generous, from messages*latency)",
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--pg-dbname", default="pymess_bench_baseline")
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the PostgreSQL database afterwards"
    )
    parser.add_argument(
        "--keep-temp", action="store_true", help="keep the temp dir (logs, SQLite file)"
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.workers < 1 or args.batch_size < 1:
        parser.error("--messages, --workers and --batch-size must be >= 1")
    if args.timeout is None:
        args.timeout = max(120.0, args.messages * (args.latency + 0.02) * 3)
    return args


def main(argv=None):
    args = parse_args(argv)
    ensure_venv()
    tmpdir = tempfile.mkdtemp(prefix="pymess-bench-baseline-")
    log(f"temp dir {tmpdir}")
    provider = None
    db_created = False
    env = dict(os.environ)
    try:
        provider, provider_url = start_provider(args.latency, tmpdir)
        log(f"fake provider at {provider_url} (latency {args.latency:.3f}s)")
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench_settings",
                "PYTHONPATH": str(BASELINE_DIR),
                "PYTHONUNBUFFERED": "1",
                "PYMESS_BENCH_DB": args.db,
                "PYMESS_BENCH_SQLITE_PATH": os.path.join(tmpdir, "bench.sqlite3"),
                "PYMESS_BENCH_PG_HOST": args.pg_host,
                "PYMESS_BENCH_PG_PORT": str(args.pg_port),
                "PYMESS_BENCH_PG_USER": args.pg_user,
                "PYMESS_BENCH_PG_DBNAME": args.pg_dbname,
                "PYMESS_BENCH_PROVIDER_URL": provider_url,
                "PYMESS_BENCH_BATCH_SIZE": str(args.batch_size),
            }
        )
        if args.db == "postgres":
            tool(env, "createdb")
            db_created = True
        subprocess.run(
            [venv_python(), "-m", "django", "migrate", "--noinput", "-v", "0"],
            env=env,
            check=True,
            stdout=sys.stderr,
        )
        tool(env, "seed", str(args.messages))
        provider_call(provider_url, "/reset", method="POST")

        log(
            "running %d worker(s) of send_messages_batch --type sms (%s, batch size %d)"
            % (args.workers, args.invocation, args.batch_size)
        )
        seconds, workers = run_workers(env, args.workers, args.invocation, args.timeout, tmpdir)
        stats = provider_call(provider_url, "/stats")
        report = json.loads(tool(env, "report", capture=True))

        unique = stats["unique_messages"]
        result = {
            "impl": IMPL_NAME,
            "db": args.db,
            "workers": args.workers,
            "messages": args.messages,
            "latency": args.latency,
            "batch_size": args.batch_size,
            "invocation": args.invocation,
            "seconds": round(seconds, 3),
            "msg_per_s": round(unique / seconds, 2) if seconds > 0 else None,
            "provider_requests": stats["requests"],
            "provider_messages": stats["messages"],
            "unique_messages": unique,
            "duplicates": stats["duplicates"],
            "max_in_flight": stats["max_in_flight"],
            "command_runs": sum(w.get("invocations", 0) for w in workers),
            "locked_runs": sum(w.get("locked", 0) for w in workers),
            "timed_out": any(w.get("timed_out") or w.get("crashed") for w in workers),
            "final_states": report["states"],
            "sent_by_worker": report["sent_by_worker"],
            "multiple_send_attempts": report["multiple_send_attempts"],
            "logged_tracebacks": count_logged_errors(tmpdir),
        }
        log(f"per worker: {json.dumps(workers)}")
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        return 0
    except (BenchError, subprocess.CalledProcessError, OSError) as ex:
        log(f"ERROR: {ex}")
        return 1
    finally:
        if provider is not None:
            stop_process(provider)
        if db_created and not args.keep_db:
            try:
                tool(env, "dropdb")
            except BenchError as ex:
                log(f"could not drop database: {ex}")
        if args.keep_temp:
            log(f"kept temp dir {tmpdir}")
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as ex:
        log(f"ERROR: {ex}")
        sys.exit(1)
