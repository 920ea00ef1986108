"""CI guard against plans that grow faster than the data.

    .venv/bin/python bench/guard.py          # run by `make test`; exit 1 when a step grows

It builds the benchmark's legacy database at 20,000 and at 40,000 people, and on each runs
the copy (every source, in units of 2,500 rows), a re-run with nothing new and ``--verify``.
Work that is linear in the rows doubles from one size to the other. A quadratic plan
quadruples: a nested loop over two growing tables, or a step that every unit runs against a
whole table (twice the units, each reading twice the rows).

Each engine step (the code line that issued the statement, and its source) is measured at
both sizes in two ways: the rows it read from tables, counted by PostgreSQL (exact: the
same on every run), and its time (the faster of two runs). A step fails the guard if its
rows grew more than ``--limit`` times (default 3) or its time more than ``--time-limit``
times (default 3.5: times are noisier), counting only rows from ``--min-rows`` and times
from ``--min-seconds`` at the larger size: below that, a fixed cost per statement and the
noise of the clock dominate. The figures are printed either way.

Times are compared, never checked against a goal, which is why this lives here and not
among the tests: a busy machine slows both sizes alike. It needs what bench/run.py needs:
a PostgreSQL superuser (``--server``, BENCH_SERVER_URL).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from run import Bench, Server, read_trace, say, snapshot

SMALL, LARGE = 20_000, 40_000
UNIT_ROWS = 2_500  # eight units and sixteen: work repeated per unit shows up
RUNS = (
    ("first", ("migrate_legacy_users", "--json")),
    ("rerun", ("migrate_legacy_users", "--json")),
    ("verify", ("migrate_legacy_users", "--verify", "--json")),
)

# ANALYZE runs once per doubling of a table (Context.grew) and reads a sample of at most
# 30,000 rows: its time grows in steps, linear only on average, so only its rows are compared.
ANALYZE = "ANALYZE"
Step = tuple[str, str, str]  # (run, engine caller, source)
Measures = dict[Step, dict[str, float]]  # step -> {"seconds": ..., "rows": ...}


class GuardBench(Bench):
    """The benchmark's database and commands, with small units, counting rows read."""

    def env(self) -> dict[str, str]:
        return {**super().env(), "LEGACY_COPY_CHUNK_ROWS": str(UNIT_ROWS), "BENCH_TUPLES": "1"}


def measure(bench: GuardBench, repeats: int) -> Measures:
    """Per step (and per whole run): the fewest seconds and rows read of ``repeats`` runs."""
    best: Measures = {}
    bench.build()
    for attempt in range(repeats):
        bench.reset_consolidated()
        for name, args in RUNS:
            bench.server.settle()
            label = f"{name}-{attempt}"
            result = bench.command(label, *args)
            if result["exit_code"] not in (0, 1) or result["timed_out"]:
                raise SystemExit(f"N={bench.n:,}: {label} failed (exit {result['exit_code']})")
            this: Measures = defaultdict(lambda: {"seconds": 0.0, "rows": 0})
            trace = bench.out / f"trace-{bench.n}-{label}.jsonl"
            for statement in read_trace(trace, result["seconds"]):
                caller = statement["caller"]
                if statement["sql"].startswith("ANALYZE"):
                    caller = f"{ANALYZE} < {caller}"
                for step in ((name, caller, statement["source"] or ""),
                             (name, "(whole run)", "")):
                    this[step]["seconds"] += statement["span_s"]
                    this[step]["rows"] += statement["tuples"]
            this[(name, "(whole run)", "")]["seconds"] = result["seconds"]
            for step, values in this.items():
                kept = best.setdefault(step, dict(values))
                for key, value in values.items():
                    kept[key] = min(kept[key], value)
    return best


def compare(
    small: Measures, large: Measures, args: argparse.Namespace
) -> tuple[list[str], list[str]]:
    """A line per step worth comparing, largest growth first; and the steps that failed."""
    none = {"seconds": 0.0, "rows": 0}
    lines, failed = [], []
    for step in sorted(set(small) | set(large)):
        before, after = small.get(step, none), large.get(step, none)
        growth = {key: after[key] / before[key] if before[key] else float("inf")
                  for key in ("seconds", "rows")}
        run, caller, source = step
        limits = {"rows": args.limit if after["rows"] >= args.min_rows else None,
                  "seconds": args.time_limit
                  if after["seconds"] >= args.min_seconds and not caller.startswith(ANALYZE)
                  else None}
        if limits == {"rows": None, "seconds": None}:
            continue
        line = (f"rows {growth['rows']:6.2f}x {before['rows']:>10,.0f} -> {after['rows']:>10,.0f}"
                f"  time {growth['seconds']:6.2f}x {before['seconds']:7.3f}s ->"
                f" {after['seconds']:7.3f}s  {run:<7} {source:<16} {caller}")
        lines.append((max(growth[key] for key in growth if limits[key]), line))
        if any(limit and growth[key] > limit for key, limit in limits.items()):
            failed.append(line)
    return [line for _, line in sorted(lines, reverse=True)], failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get(
        "BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--db", default="authcore_guard", help="database to create and drop")
    parser.add_argument("--ref", help="guard this git ref instead of the working tree")
    parser.add_argument("--limit", type=float, default=3.0,
                        help=f"largest allowed growth of rows read, {SMALL:,} to {LARGE:,} people")
    parser.add_argument("--time-limit", type=float, default=3.5,
                        help="largest allowed growth of a time (times are noisier than rows)")
    parser.add_argument("--min-seconds", type=float, default=0.5,
                        help=f"times under this at {LARGE:,} people are not compared")
    parser.add_argument("--min-rows", type=int, default=10_000,
                        help=f"rows read under this at {LARGE:,} people are not compared")
    parser.add_argument("--repeats", type=int, default=2, help="runs per size; the fastest counts")
    args = parser.parse_args()
    # What Bench reads of the benchmark's own options.
    args.timeout, args.pgoptions, args.verify_timeout = 600, None, 3.0
    args.out = Path(tempfile.mkdtemp(prefix="authcore-guard-"))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = Server(args.server, args.db)
    server.claim()
    project, state = snapshot(args.ref)
    say(f"guard: {state['tree']} of {state['commit'][:12]}, {SMALL:,} and {LARGE:,} people")
    try:
        times: dict[int, Measures] = {}
        for n in (SMALL, LARGE):
            times[n] = measure(GuardBench(args, project, server, n), args.repeats)
    finally:
        server.drop()
        server.release()
        shutil.rmtree(project, ignore_errors=True)
        shutil.rmtree(args.out, ignore_errors=True)
    lines, failed = compare(times[SMALL], times[LARGE], args)
    print(f"growth from {SMALL:,} to {LARGE:,} people (linear: 2x; limits: rows read"
          f" {args.limit}x, time {args.time_limit}x) of the steps that read at least"
          f" {args.min_rows:,} rows or took {args.min_seconds}s:")
    print("\n".join(lines))
    if failed:
        print(f"\nFAILED: {len(failed)} step(s) grew faster than the data:", file=sys.stderr)
        print("\n".join(failed), file=sys.stderr)
        raise SystemExit(1)
    print("\nno step grew faster than the data")


if __name__ == "__main__":
    main()
