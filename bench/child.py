"""The Django side of the benchmark, run by bench/run.py in its own process.

    child.py command <manage.py arguments>   the command, with every SQL statement timed
    child.py admin <path> ...                server time of admin pages (test client)
    child.py sources                          the engine's source names, as JSON

``command`` is ``manage.py <arguments>`` plus a statement timer hooked in through Django's
public ``connection.execute_wrapper``: each statement is written to $BENCH_TRACE (JSON
lines) as it starts and ends, with the engine function that issued it. Commits are timed
too (deferred foreign keys are checked there). With $BENCH_EXPLAIN_MS set, PostgreSQL's
auto_explain sends the analysed plan of every statement slower than that back to the
client as a notice, written to $BENCH_PLANS. With $BENCH_TUPLES set (bench/guard.py), the
rows each statement read from tables (``TupleCounter``) are recorded too. None of them
changes what the command does.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

PROJECT = Path(os.environ.get("BENCH_PROJECT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(PROJECT))
os.chdir(PROJECT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcore.settings")


def _caller() -> str:
    """The innermost engine frames that issued the statement, e.g. ``people.py:93 copy``."""
    frames = []
    frame = sys._getframe(2)
    while frame is not None and len(frames) < 2:
        name = frame.f_code.co_filename.replace(os.sep, "/")
        if "/legacy/" in name and not name.endswith(("/context.py", "/sql.py")):
            frames.append(f"{name.rsplit('/', 1)[-1]}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(frames) or "django"


class TupleCounter:
    """Rows read from tables (sequential scans, and index scans' heap fetches) as PostgreSQL
    counts them for the session (``pg_stat_xact_user_tables``), temporary tables included.
    An exact measure, unlike a time: a nested loop over two tables, or a whole table read
    in every unit, shows as rows read growing with the square of the data.

    What that view holds between transactions differs between versions (PostgreSQL 15
    keeps counting until the session's statistics are flushed), so only differences within
    one transaction are used: each transaction's count is read when it starts. A statement
    run outside a transaction (in autocommit) is wrapped in its own, which nothing the
    engine runs outside one minds (no VACUUM, no CREATE INDEX CONCURRENTLY). Rows read by a
    streamed result after its statement returned count for that statement, as its span
    does; those of a cursor held past its transaction (``WITH HOLD``) are not counted.
    """

    QUERY = ("SELECT relid, seq_tup_read + COALESCE(idx_tup_fetch, 0)"
             " FROM pg_stat_xact_user_tables")

    def __init__(self) -> None:
        # Per table, the count when last read in this transaction. Per table, because a
        # dropped table (a staged one) leaves the view, and its rows with it.
        self.seen: dict[int, int] | None = None

    def _counts(self, raw: Any) -> dict[int, int]:
        return {relid: int(count) for relid, count in raw.execute(self.QUERY).fetchall()}

    def start(self, raw: Any) -> None:
        """The transaction starts now (psycopg opens it with this very query)."""
        self.seen = self._counts(raw)

    def read(self, raw: Any) -> int:
        """Rows read in this transaction since the last reading."""
        from psycopg import pq

        if self.seen is None or raw.info.transaction_status != pq.TransactionStatus.INTRANS:
            return 0
        now = self._counts(raw)
        read = sum(count - self.seen.get(relid, 0) for relid, count in now.items())
        self.seen = now
        return read

    def ended(self) -> None:
        self.seen = None


class Tracer:
    """Times every statement and commit of one process (see the module docstring)."""

    def __init__(self, trace_path: str, plans_path: str | None, explain_ms: int | None,
                 tuples: TupleCounter | None = None):
        self.out = open(trace_path, "w", encoding="utf-8")
        self.plans = open(plans_path, "w", encoding="utf-8") if plans_path else None
        self.explain_ms = explain_ms
        self.tuples = tuples
        self.t0 = time.perf_counter()
        self.index = 0

    def _write(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record, default=str) + "\n")
        self.out.flush()

    def _begin(self, sql: str, params: Any) -> int:
        self.index += 1
        source = None
        if isinstance(params, dict):
            source = params.get("source") or params.get("issue_source")
        self._write({
            "i": self.index,
            "start": round(time.perf_counter() - self.t0, 6),
            "caller": _caller(),
            "source": source,
            "sql": " ".join(str(sql).split())[:4000],
        })
        return self.index

    def _end(self, index: int, rows: int | None) -> None:
        self._write({"i": index, "end": round(time.perf_counter() - self.t0, 6), "rows": rows})

    def _count(self, raw: Any) -> None:
        """Rows read since the last reading go to the statement that was running then."""
        if self.tuples is not None and self.index:
            read = self.tuples.read(raw)
            if read:
                self._write({"i": self.index, "tuples": read})

    def __call__(self, execute, sql, params, many, context):  # Django's execute_wrapper
        raw = context["connection"].connection
        own_transaction = False
        if self.tuples is not None:
            from psycopg import pq

            self._count(raw)
            if raw.info.transaction_status == pq.TransactionStatus.IDLE:
                own_transaction = raw.autocommit  # else an atomic block's first statement
                if own_transaction:
                    raw.execute("BEGIN")  # see TupleCounter
                self.tuples.start(raw)
        index = self._begin(sql, params)
        rows = None
        try:
            result = execute(sql, params, many, context)
            rows = getattr(context["cursor"], "rowcount", None)
            if own_transaction:
                self._count(raw)
            return result
        finally:
            self._end(index, rows)
            if own_transaction:
                raw.execute("COMMIT" if rows is not None else "ROLLBACK")
                self.tuples.ended()

    def wrap_commit(self, connection: Any) -> None:
        original = connection._commit

        def timed_commit() -> None:
            if connection.connection is not None:
                self._count(connection.connection)
            index = self._begin("COMMIT", None)
            try:
                original()
            finally:
                self._end(index, None)
                if self.tuples is not None:
                    self.tuples.ended()

        connection._commit = timed_commit
        if self.tuples is not None:
            original_rollback, counter = connection._rollback, self.tuples

            def rollback() -> None:
                original_rollback()
                counter.ended()

            connection._rollback = rollback

    def on_connect(self, sender: Any, connection: Any, **kwargs: Any) -> None:
        if self.explain_ms is None:
            return
        raw = connection.connection
        raw.add_notice_handler(self.on_notice)
        with raw.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            for name, value in (
                ("log_min_duration", str(int(self.explain_ms))),
                ("log_analyze", "on"),
                ("log_buffers", "on"),
                ("log_triggers", "on"),
                ("log_level", "notice"),
            ):
                cursor.execute(f"SET auto_explain.{name} = {value}")

    def on_notice(self, diagnostic: Any) -> None:
        if self.plans is not None:
            self.plans.write(f"--- during statement {self.index}\n{diagnostic.message_primary}\n")
            self.plans.flush()


def run_command(args: list[str]) -> None:
    import django
    from django.core.management import execute_from_command_line
    from django.db import connection
    from django.db.backends.signals import connection_created

    django.setup()
    if "BENCH_TRACE" not in os.environ:  # an untimed helper run (migrate)
        execute_from_command_line(["manage.py", *args])
        return
    explain = os.environ.get("BENCH_EXPLAIN_MS")
    tracer = Tracer(
        os.environ["BENCH_TRACE"],
        os.environ.get("BENCH_PLANS"),
        int(explain) if explain else None,
        TupleCounter() if os.environ.get("BENCH_TUPLES") else None,
    )
    connection_created.connect(tracer.on_connect)
    tracer.wrap_commit(connection)
    with connection.execute_wrapper(tracer):
        execute_from_command_line(["manage.py", *args])


def admin_timings(paths: list[str], repeat: int = 5) -> None:
    """Server time of each admin page for a superuser: the test client runs the whole
    request (middleware, view, template) in this process, so its wall time is server time."""
    import django
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    django.setup()
    admin, _ = get_user_model()._default_manager.get_or_create(
        email="bench-admin@bench.invalid",
        defaults={"is_staff": True, "is_superuser": True, "password": "!"},
    )
    client = Client()
    client.force_login(admin)
    results = {}
    for path in paths:
        response = client.get(path)  # warm-up: imports, template loading, plan caches
        times, queries = [], None
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            queries = captured.captured_queries
        slowest = max(queries or [{"time": "0", "sql": ""}], key=lambda q: float(q["time"]))
        results[path] = {
            "status": response.status_code,
            "ms_median": round(statistics.median(times), 1),
            "ms_min": round(min(times), 1),
            "queries": len(queries or []),
            "sql_ms": round(sum(float(q["time"]) for q in queries or []) * 1000, 1),
            "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
            "slowest_query": " ".join(slowest["sql"].split())[:600],
        }
    print(json.dumps(results))


def sources() -> None:
    import django

    django.setup()
    from legacy.engine.sources import SOURCES

    print(json.dumps(list(SOURCES)))


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "command":
        run_command(rest)
    elif mode == "admin":
        admin_timings(rest)
    elif mode == "sources":
        sources()
    else:
        sys.exit(f"unknown mode {mode!r}")
