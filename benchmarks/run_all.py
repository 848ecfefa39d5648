#!/usr/bin/env python3
"""Run the baseline and the pymess benchmarks in one go and print the ratios.

Run it with the interpreter of an environment where pymess-core, Django and
psycopg are installed (``nox -s bench`` does that)::

    python benchmarks/run_all.py                       # 2,000 messages, 50 ms latency
    python benchmarks/run_all.py --memory-messages 100000

It runs, one after the other, each against ``benchmarks/fake_provider.py`` in
its own process and the local PostgreSQL:

* ``baseline/run_baseline.py``: django-pymess 0.7.6, one worker;
* ``pymess_bench/run_pymess.py``: pymess with 1 and with 2 worker processes;
* pymess with the zero-latency ``dummy`` backend: the pure database overhead
  (claim + start + record) in msg/s, and the worker's peak RSS;
* optionally (``--memory-messages``) a large queue, to show memory stays flat.

Every result is printed as a JSON line, then a table with the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def run(command: list[str]) -> dict:
    sys.stderr.write(f"\n$ {' '.join(command)}\n")
    sys.stderr.flush()
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--baseline-messages",
        type=int,
        default=None,
        help="messages for the slow baseline; msg/s is a rate (default: --messages)",
    )
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=32, help="PYMESS_SMS_WORKER_THREADS")
    parser.add_argument("--overhead-messages", type=int, default=20000)
    parser.add_argument("--memory-messages", type=int, default=0)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    pymess = [sys.executable, str(BENCH_DIR / "pymess_bench" / "run_pymess.py")]
    common = ["--latency", str(args.latency), "--threads", str(args.threads)]
    baseline = None
    if not args.skip_baseline:
        baseline = run(
            [
                sys.executable,
                str(BENCH_DIR / "baseline" / "run_baseline.py"),
                "--messages",
                str(args.baseline_messages or args.messages),
                "--latency",
                str(args.latency),
                "--workers",
                "1",
            ]
        )
    one = run([*pymess, "--messages", str(args.messages), "--workers", "1", *common])
    two = run([*pymess, "--messages", str(args.messages), "--workers", "2", *common])
    overhead = run([*pymess, "--messages", str(args.overhead_messages), "--backend", "dummy"])
    memory = None
    if args.memory_messages:
        memory = run([*pymess, "--messages", str(args.memory_messages), "--backend", "dummy"])

    rows = []
    if baseline:
        rows.append(
            ("django-pymess 0.7.6, 1 worker", baseline["msg_per_s"], baseline.get("duplicates"))
        )
    rows += [
        (f"pymess, 1 worker ({args.threads} threads)", one["msg_per_s"], one["duplicates"]),
        (f"pymess, 2 workers ({args.threads} threads each)", two["msg_per_s"], two["duplicates"]),
    ]
    print(f"\n{args.messages} messages, provider latency {args.latency * 1000:.0f} ms, PostgreSQL")
    print(f"{'':48} {'msg/s':>9} {'duplicates':>11}")
    for name, rate, dups in rows:
        print(f"{name:48} {rate:9.1f} {dups!s:>11}")
    if baseline and baseline["msg_per_s"]:
        print(f"pymess 1 worker / baseline:  {one['msg_per_s'] / baseline['msg_per_s']:6.1f}x")
        print(f"pymess 2 workers / baseline: {two['msg_per_s'] / baseline['msg_per_s']:6.1f}x")
    print(f"scaling 1 -> 2 workers:      {two['msg_per_s'] / one['msg_per_s']:6.2f}x")
    print(
        f"database overhead (dummy backend, claim+start+record): {overhead['msg_per_s']:.0f} msg/s "
        f"over {overhead['messages']} messages, peak RSS {overhead['peak_rss_mb']} MB"
    )
    if memory:
        print(
            f"memory: {memory['messages']} messages in one worker, peak RSS "
            f"{memory['peak_rss_mb']} MB ({memory['msg_per_s']:.0f} msg/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
