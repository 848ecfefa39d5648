#!/usr/bin/env python3
"""Benchmark pymess' ``send_messages_batch`` against the shared fake provider.

Run with the interpreter of an environment where pymess-core is installed
(``.venv/bin/python benchmarks/pymess_bench/run_pymess.py --workers 2``):

1. (re)create the PostgreSQL database ``pymess_bench_batch`` and migrate it;
2. store ``--messages`` WAITING messages;
3. start ``benchmarks/fake_provider.py`` in its own process (``--latency``), or use the
   zero-latency ``dummy`` backend with ``--backend dummy`` (pure database overhead);
4. start ``--workers`` processes; each loads Django, then waits for a common start
   signal and runs ``send_messages_batch --type=sms`` once - the clock runs from the
   signal until every worker has exited, so start-up is not counted (as in the baseline);
5. print ONE JSON line: msg/s, duplicates at the provider, peak RSS per worker, states.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BENCH_DIR.parent
FAKE_PROVIDER = BENCH_DIR / "fake_provider.py"


def log(text: str) -> None:
    sys.stderr.write(f"[pymess] {text}\n")
    sys.stderr.flush()


def worker_main(go_file: str) -> None:
    """One worker: load Django, wait for the start signal, send, report peak RSS."""
    import django

    django.setup()
    from io import StringIO

    from django.core.management import call_command

    while not os.path.exists(go_file):
        time.sleep(0.005)
    before = resource.getrusage(resource.RUSAGE_SELF)
    out = StringIO()
    call_command("send_messages_batch", "--type=sms", "--no-progress", stdout=out)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        json.dumps(
            {
                "summary": out.getvalue().strip(),
                "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
                "cpu_s": round(cpu, 2),
            }
        )
    )


def psql(dbname: str, sql: str, env: dict[str, str]) -> None:
    subprocess.run(
        [
            "psql",
            "-h",
            env["PYMESS_BENCH_PG_HOST"],
            "-p",
            env["PYMESS_BENCH_PG_PORT"],
            "-U",
            env["PYMESS_BENCH_PG_USER"],
            "-d",
            dbname,
            "-qc",
            sql,
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def seed(count: int, env: dict[str, str]) -> None:
    code = (
        "import django; django.setup()\n"
        "from pymess.models import OutputSMSMessage as M\n"
        f"n = {count}\n"
        "for start in range(0, n, 5000):\n"
        "    M.objects.bulk_create([M(recipient='+420777000000', content=f'benchmark {i}')\n"
        "                           for i in range(start, min(n, start + 5000))])\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO_ROOT)


def start_provider(latency: float, tmp: Path) -> tuple[subprocess.Popen, str]:
    port_file = tmp / "provider.port"
    process = subprocess.Popen(
        [
            sys.executable,
            str(FAKE_PROVIDER),
            "--port",
            "0",
            "--latency",
            str(latency),
            "--port-file",
            str(port_file),
        ],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not port_file.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit("the fake provider did not start")
        time.sleep(0.02)
    return process, f"http://127.0.0.1:{port_file.read_text().strip()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--backend", choices=("http", "dummy"), default="http")
    parser.add_argument("--threads", type=int, default=32, help="PYMESS_SMS_WORKER_THREADS")
    parser.add_argument("--batch-size", type=int, default=100, help="PYMESS_SMS_BATCH_SIZE")
    parser.add_argument("--dbname", default="pymess_bench_batch")
    parser.add_argument("--worker", metavar="GO_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker)
        return 0

    env = dict(os.environ)
    env.setdefault("PYMESS_BENCH_PG_HOST", "127.0.0.1")
    env.setdefault("PYMESS_BENCH_PG_PORT", "5432")
    env.setdefault("PYMESS_BENCH_PG_USER", "postgres")
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.pymess_bench.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        PYMESS_BENCH_DB_NAME=args.dbname,
        PYMESS_BENCH_BACKEND=args.backend,
        PYMESS_BENCH_THREADS=str(args.threads),
        PYMESS_BENCH_BATCH_SIZE=str(args.batch_size),
    )
    with tempfile.TemporaryDirectory(prefix="pymess-bench-") as tmp_name:
        tmp = Path(tmp_name)
        provider = None
        try:
            psql("postgres", f'DROP DATABASE IF EXISTS "{args.dbname}"', env)
            psql("postgres", f'CREATE DATABASE "{args.dbname}"', env)
            subprocess.run(
                [sys.executable, "-m", "django", "migrate", "-v0"],
                check=True,
                env=env,
                cwd=REPO_ROOT,
            )
            log(f"seeding {args.messages} messages")
            seed(args.messages, env)
            if args.backend == "http":
                provider, url = start_provider(args.latency, tmp)
                env["PYMESS_BENCH_PROVIDER_URL"] = url
            go_file = tmp / "go"
            workers = [
                subprocess.Popen(
                    [sys.executable, __file__, "--worker", str(go_file)],
                    env=env,
                    cwd=REPO_ROOT,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(args.workers)
            ]
            time.sleep(3.0)  # every worker has loaded Django and waits for the signal
            log(f"go: {args.workers} worker(s), backend {args.backend}")
            started = time.monotonic()
            go_file.touch()
            reports = []
            for worker in workers:
                out, _ = worker.communicate(timeout=1800)
                if worker.returncode != 0:
                    raise SystemExit(f"a worker failed (exit {worker.returncode})")
                reports.append(json.loads(out.strip().splitlines()[-1]))
            seconds = time.monotonic() - started
            stats = {}
            if provider is not None:
                with urllib.request.urlopen(url + "/stats", timeout=10) as response:
                    stats = json.load(response)
            states = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import django, json; django.setup()\n"
                    "from django.db.models import Count\n"
                    "from pymess.models import OutputSMSMessage as M\n"
                    "print(json.dumps(dict(M.objects.values_list('state').annotate(n=Count('id')))))",
                ],
                check=True,
                env=env,
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            if provider is not None:
                provider.terminate()
                provider.wait(10)
            psql("postgres", f'DROP DATABASE IF EXISTS "{args.dbname}"', env)
    delivered = stats.get("unique_messages", args.messages) if provider else args.messages
    result = {
        "impl": "pymess",
        "backend": args.backend,
        "workers": args.workers,
        "threads": args.threads,
        "messages": args.messages,
        "latency": args.latency if args.backend == "http" else 0.0,
        "seconds": round(seconds, 3),
        "msg_per_s": round(delivered / seconds, 1),
        "duplicates": stats.get("duplicates", 0),
        "max_in_flight": stats.get("max_in_flight"),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in reports),
        "worker_cpu_s": [r["cpu_s"] for r in reports],
        "final_states": json.loads(states),
        "per_worker": [r["summary"] for r in reports],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
