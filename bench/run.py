"""The benchmark of the legacy copy: how close to PostgreSQL's own speed, in how
much memory. See bench/README.md.

    .venv/bin/python bench/run.py                       # N = 100,000 and 1,000,000
    .venv/bin/python bench/run.py --people 100000       # one size

For each N it builds its own database, fills a messy legacy database of N people with
set-based SQL, times the floor (plain INSERT ... SELECT ... ON CONFLICT DO NOTHING of users
and keys) and then ``manage.py migrate_legacy_users`` in a subprocess: users + keys alone,
every source, a re-run with nothing new, ``--verify``, a re-run after 1% new rows; then the
admin changelists. Prints a table and writes bench/results/results-<N>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import data
import floor
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DDL = Path("tests/sql/legacy_schema.postgresql.sql")
ADMIN_PAGES = {
    "users": "/admin/accounts/user/",
    "legacy users": "/admin/legacy/authuser/",
    "review queue": "/admin/legacy/reviewitem/",
}
T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - T0:8.1f}s] {message}", file=sys.stderr, flush=True)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- the project under test: a snapshot, so that edits during a long run don't mix in ----

def snapshot(ref: str | None) -> tuple[Path, dict[str, Any]]:
    """Copy the project (the working tree, or git ``ref``) to a temporary directory."""
    target = Path(tempfile.mkdtemp(prefix="authcore-bench-"))

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout

    state: dict[str, Any] = {"commit": git("rev-parse", "HEAD").strip()}
    if ref:
        archive = subprocess.run(
            ["git", "archive", ref], cwd=REPO, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        state.update(tree=ref, commit=git("rev-parse", ref).strip(), changed_files=[])
    else:
        for name in git("ls-files", "-z", "-co", "--exclude-standard").split("\0"):
            source = REPO / name
            if name and source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
        changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
        # The uncommitted changes to tracked files, so that the figures can be traced back.
        state.update(tree="working tree", changed_files=changed, diff=git("diff", "HEAD"))
    return target, state


# --- PostgreSQL --------------------------------------------------------------------------

class Server:
    """The PostgreSQL server and the benchmark's own database on it."""

    def __init__(self, url: str, dbname: str) -> None:
        self.params = conninfo_to_dict(url)
        self.dbname = dbname
        self.conn: psycopg.Connection | None = None
        self.guard: psycopg.Connection | None = None

    def claim(self) -> None:
        """Hold a server-wide lock on the database name for the whole run: a second
        benchmark with the same --db stops at once instead of dropping this one's database."""
        self.guard = self.connect(self.params.get("dbname") or "postgres")
        key = f"authcore-bench:{self.dbname}"
        if not self.guard.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key]).fetchone()[0]:
            raise SystemExit(
                f"another benchmark is using database {self.dbname!r} on this server;"
                " wait for it, or give this one its own: --db NAME"
            )

    def connect(self, dbname: str) -> psycopg.Connection:
        return psycopg.connect(make_conninfo(**{**self.params, "dbname": dbname}),
                               autocommit=True)

    def django_url(self) -> str:
        p = self.params
        auth = p.get("user", "postgres") + (f":{p['password']}" if p.get("password") else "")
        return f"postgres://{auth}@{p.get('host', '127.0.0.1')}:{p.get('port', 5432)}/{self.dbname}"

    def recreate(self) -> None:
        self.close()
        with self.connect(self.params.get("dbname") or "postgres") as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote(self.dbname)} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {quote(self.dbname)}")
        self.conn = self.connect(self.dbname)

    def drop(self) -> None:
        self.close()
        with self.connect(self.params.get("dbname") or "postgres") as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote(self.dbname)} WITH (FORCE)")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def release(self) -> None:
        if self.guard is not None:
            self.guard.close()  # ends the session, and its lock
            self.guard = None

    def execute(self, sql: str) -> int:
        assert self.conn is not None
        return self.conn.execute(sql).rowcount

    def scalar(self, sql: str) -> Any:
        assert self.conn is not None
        return self.conn.execute(sql).fetchone()[0]

    def count(self, table: str) -> int:
        return self.scalar(f"SELECT COUNT(*) FROM {quote(table)}")

    def settle(self) -> None:
        """Statistics fresh, dirty pages written: each timed step starts from the same state
        (and autovacuum, switched off, cannot wake up in the middle of one)."""
        self.execute("VACUUM (ANALYZE)")
        self.execute("CHECKPOINT")

    def autovacuum_off(self) -> None:
        assert self.conn is not None
        for (table,) in self.conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall():
            self.execute(f"ALTER TABLE {quote(table)} SET (autovacuum_enabled = false,"
                         " toast.autovacuum_enabled = false)")

    def stats(self) -> dict[str, int]:
        assert self.conn is not None
        row = self.conn.execute(
            "SELECT temp_files, temp_bytes, blks_read, blks_hit,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
            " FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        # WAL is counted for the whole server: other databases' writes are included.
        keys = ("temp_files", "temp_bytes", "blks_read", "blks_hit", "wal_bytes_server_wide")
        return dict(zip(keys, row, strict=True))

    def others_active(self) -> int:
        """Sessions working in other databases of the server: they compete for the CPUs."""
        assert self.conn is not None
        return self.scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active'"
            " AND datname IS NOT NULL AND datname <> current_database()"
        )

    def kill_backends(self) -> None:
        """End the sessions of a stopped command (all but the benchmark's own)."""
        assert self.conn is not None
        self.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    def info(self) -> dict[str, Any]:
        names = ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
                 "max_wal_size", "synchronous_commit", "jit", "max_parallel_workers_per_gather")
        return {"version": self.scalar("SELECT version()"),
                **{n: self.scalar(f"SHOW {n}") for n in names}}


# --- one benchmark size ------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, project: Path, server: Server, n: int):
        self.args, self.project, self.server, self.n = args, project, server, n
        self.out: Path = args.out
        self.nats = False
        self.nats_keys: dict[int, Any] = {}

    # subprocesses ------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACY_TABLE_")}
        env.update(
            DATABASE_URL=self.server.django_url(),
            SECRET_KEY="bench-only-not-a-secret-" + "x" * 40,
            DEBUG="false",
            ALLOWED_HOSTS="testserver,localhost",
            LEGACY_LOG_LEVEL="WARNING",
            BENCH_PROJECT=str(self.project),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def child(self, *args: str, check: bool = True) -> str:
        """A short Django helper (migrate, sources, admin); returns its stdout."""
        result = subprocess.run(
            [sys.executable, str(BENCH / "child.py"), *args],
            cwd=self.project, env=self.env(), capture_output=True, text=True,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"child {args} failed:\n{result.stderr[-4000:]}")
        return result.stdout

    def command(
        self, name: str, *args: str, explain_ms: int | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Run ``manage.py <args>`` as its own process: wall time, peak RSS, its statements.

        A run longer than ``timeout`` is stopped; its time is then a lower bound."""
        timeout = timeout or self.args.timeout
        trace = self.out / f"trace-{self.n}-{name}.jsonl"
        plans = self.out / f"plans-{self.n}-{name}.txt"
        env = self.env()
        env["BENCH_TRACE"] = str(trace)
        if explain_ms is not None:
            env.update(BENCH_EXPLAIN_MS=str(explain_ms), BENCH_PLANS=str(plans))
        if self.args.pgoptions:
            env["PGOPTIONS"] = self.args.pgoptions
        before = self.server.stats()
        load_before, others_before = os.getloadavg()[0], self.server.others_active()
        stdout_path = self.out / f"stdout-{self.n}-{name}.txt"
        stderr_path = self.out / f"stderr-{self.n}-{name}.txt"
        say(f"N={self.n:,}: {name}: manage.py {' '.join(args)}")
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, str(BENCH / "child.py"), "command", *args],
                cwd=self.project, env=env, stdout=stdout, stderr=stderr,
                start_new_session=True,
            )
            waited: list[tuple[float, int, Any]] = []

            def wait() -> None:
                _, status, usage = os.wait4(proc.pid, 0)
                waited.append((time.perf_counter(), status, usage))

            waiter = threading.Thread(target=wait, daemon=True)
            waiter.start()
            try:
                waiter.join(timeout)
            finally:  # on a timeout, and when the benchmark itself is stopped
                timed_out = waiter.is_alive()
                if timed_out:
                    say(f"N={self.n:,}: {name}: stopped after {timeout:.0f}s")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    waiter.join()
                    self.server.kill_backends()  # else its statement runs on in the server
            ended, status, usage = waited[0]
            proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = ended - started
        after = self.server.stats()
        report = None
        text = stdout_path.read_text(errors="replace")
        with contextlib.suppress(ValueError):
            report = json.loads(text[text.index("{"):]) if "{" in text else None
        result = {
            "seconds": round(seconds, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit_code": proc.returncode,
            "timed_out": timed_out,
            "engine_seconds": report.get("duration_seconds") if report else None,
            "server": {k: after[k] - before[k] for k in after},
            # Was the machine busy with something else? (1-minute load; other sessions)
            "load_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "other_active_sessions_before_after": [others_before, self.server.others_active()],
            "statements": summarise_trace(trace, seconds),
            "report": _slim_report(report),
        }
        if proc.returncode not in (0, 1) or timed_out:
            result["stderr_tail"] = stderr_path.read_text(errors="replace")[-3000:]
            say(f"N={self.n:,}: {name}: exit {proc.returncode}\n{result['stderr_tail']}")
        say(f"N={self.n:,}: {name}: {seconds:.1f}s, peak RSS {result['peak_rss_mb']} MB,"
            f" exit {proc.returncode}")
        return result

    # the legacy database -----------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        s = self.server
        timings: dict[str, float] = {}
        say(f"N={self.n:,}: creating database {s.dbname}, legacy tables, migrating")
        s.recreate()
        s.execute((self.project / DDL).read_text())
        started = time.perf_counter()
        self.child("command", "migrate", "--no-input", "-v", "0")  # legacy tables still empty
        timings["migrate_empty"] = round(time.perf_counter() - started, 2)
        self.nats = "nats" in json.loads(self.child("sources").strip().splitlines()[-1])
        s.autovacuum_off()
        say(f"N={self.n:,}: filling the legacy tables (NATS rows: {self.nats})")
        started = time.perf_counter()
        with s.conn.transaction():
            for statement in data.clients(data.clients_count(self.n)):
                s.execute(statement)
            if self.nats:
                s.execute(data.NKEY_FUNCTIONS)
                self.nats_keys = data.nats_account_keys()
                for statement, params in data.nats_accounts(self.nats_keys):
                    s.conn.execute(statement, params)
            self.fill(1, self.n)
        timings["fill"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        s.settle()
        timings["vacuum_analyze"] = round(time.perf_counter() - started, 2)
        counts = self.legacy_counts()
        say(f"N={self.n:,}: filled in {timings['fill']}s: {counts}")
        return {"timings": timings, "legacy_rows": counts, "hash_sample": self.hash_sample()}

    def fill(self, lo: int, hi: int) -> None:
        for _table, statement in data.people(lo, hi, data.clients_count(self.n), self.nats):
            self.server.execute(statement)
        if self.nats:
            data.sign_credentials(self.server.conn, self.nats_keys)
        for statement in data.reset_sequences(data.SERIAL_TABLES):
            self.server.execute(statement)

    def legacy_counts(self) -> dict[str, int]:
        tables = data.CORE_TABLES + (data.NATS_TABLES if self.nats else ())
        return {t: self.server.count(t) for t in tables}

    def hash_sample(self) -> dict[str, dict[str, int]]:
        """Formats of a sample of the generated hashes, by the project's own recogniser."""
        import importlib.util

        path = self.project / "authcore/lib/hash_formats.py"
        spec = importlib.util.spec_from_file_location("bench_hash_formats", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        sample = {}
        for table, column in (("users", "password_hash"), ("user", "hashed_password"),
                              ("fu_users", "hashed_password")):
            census: dict[str, int] = {}
            rows = self.server.conn.execute(
                f"SELECT {column} FROM {quote(table)} ORDER BY id LIMIT 5000").fetchall()
            for (value,) in rows:
                label = module.classify(value)
                census[label] = census.get(label, 0) + 1
            sample[table] = census
        return sample

    def reset_consolidated(self) -> None:
        """Empty every table the copy writes (as after a fresh ``migrate``)."""
        tables = [t for (t,) in self.server.conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND ("
            "tablename LIKE 'accounts\\_%' OR tablename LIKE 'legacy\\_%'"
            " OR tablename LIKE 'natscreds\\_%' OR tablename LIKE 'token\\_blacklist\\_%'"
            " OR tablename IN ('auth_group', 'auth_group_permissions', 'django_admin_log'))"
        ).fetchall()]
        self.server.execute(
            f"TRUNCATE {', '.join(quote(t) for t in tables)} RESTART IDENTITY CASCADE")

    # the floor ---------------------------------------------------------------------------
    def floor(self) -> dict[str, Any]:
        """Users and keys by the plainest set-based copy (``floor.py``), first and again;
        then with the records the engine keeps of them, and every source's rows the same
        way: the cost of merely writing what the engine writes."""
        s = self.server
        result: dict[str, Any] = {}
        others = {**floor.OTHERS, **(floor.NATS if self.nats else {})}
        runs = (
            ("first", floor.scratch_tables(), []),
            ("rerun", floor.scratch_tables(), []),
            ("with_records", floor.scratch_tables(floor.RECORDS), floor.records()),
            ("every_source", floor.scratch_tables(others), floor.other_sources(self.nats)),
        )
        for name, tables, more in runs:
            if name != "rerun":
                for statement in floor.create(tables):
                    s.execute(statement)
            statements = floor.users_and_keys() + more
            s.execute("CHECKPOINT")
            say(f"N={self.n:,}: floor ({name})")
            started = time.perf_counter()
            with s.conn.transaction():
                user_rows, key_rows, *written = (s.execute(sql) for sql in statements)
            result[name] = {"seconds": round(time.perf_counter() - started, 3),
                            "users_inserted": user_rows, "keys_inserted": key_rows,
                            "load_after": round(os.getloadavg()[0], 2)}
            if more:
                result[name]["rows_written"] = user_rows + key_rows + sum(written)
            say(f"N={self.n:,}: floor ({name}): {result[name]}")
            if name != "first":
                s.execute(floor.drop(tables))
        return result

    # the whole size ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        s = self.server
        results: dict[str, Any] = {"people": self.n, "build": self.build()}
        results["nats_rows"] = self.nats
        legacy = results["build"]["legacy_rows"]
        results["floor"] = self.floor()

        s.execute("CHECKPOINT")
        runs: dict[str, Any] = {}
        runs["users_keys"] = self.command(
            "users_keys", "migrate_legacy_users", "--json", "--source", "auth_service")
        self.reset_consolidated()
        s.settle()
        runs["first"] = self.command("first", "migrate_legacy_users", "--json")
        s.settle()
        runs["rerun"] = self.command("rerun", "migrate_legacy_users", "--json")
        s.settle()
        verify_timeout = max(self.args.verify_timeout * runs["first"]["seconds"], 300.0)
        runs["verify"] = self.command("verify", "migrate_legacy_users", "--verify", "--json",
                                      timeout=verify_timeout)
        extra = max(1, self.n // 100)
        say(f"N={self.n:,}: adding 1% new people ({extra:,})")
        with s.conn.transaction():
            self.fill(self.n + 1, self.n + extra)
        s.settle()
        runs["rerun_1pct"] = self.command("rerun_1pct", "migrate_legacy_users", "--json")
        results["runs"] = runs
        results["consolidated_users"] = s.count("accounts_user")
        if not self.args.no_admin:
            say(f"N={self.n:,}: admin changelists")
            pages = json.loads(self.child("admin", *ADMIN_PAGES.values()).strip().splitlines()[-1])
            results["admin"] = {name: pages[path] for name, path in ADMIN_PAGES.items()}
            results["admin_rows"] = {"accounts_user": s.count("accounts_user"),
                                     "users": s.count("users"),
                                     "legacy_reviewitem": s.count("legacy_reviewitem")}
        if self.args.explain:
            self.reset_consolidated()
            s.settle()
            results["explain"] = {
                "first": self.command("explain-first", "migrate_legacy_users", "--json",
                                      explain_ms=self.args.explain_ms),
            }
            if not runs["verify"]["timed_out"]:  # a stopped statement logs no plan
                s.settle()
                results["explain"]["verify"] = self.command(
                    "explain-verify", "migrate_legacy_users", "--verify", "--json",
                    explain_ms=self.args.explain_ms, timeout=verify_timeout)
        results["figures"] = figures(results, legacy)
        return results


def _slim_report(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The report without the long per-row problem sample."""
    if not report:
        return None
    slim = {k: report.get(k) for k in ("tables", "conflicts", "duration_seconds", "notes")}
    verification = report.get("verification")
    if verification:
        slim["verification"] = {k: verification.get(k)
                                for k in ("ok", "checked", "problem_counts")}
    return slim


def read_trace(path: Path, total: float) -> list[dict[str, Any]]:
    """The statements of one run in order. ``span`` runs from a statement's start to the
    next one's: it includes fetching a streamed result and the Python in between. So do
    ``tuples``, the rows read from tables, where the trace counted them (bench/guard.py)."""
    if not path.exists():
        return []
    starts: dict[int, dict[str, Any]] = {}
    ends: dict[int, dict[str, Any]] = {}
    tuples: dict[int, int] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if "tuples" in record:
            tuples[record["i"]] = tuples.get(record["i"], 0) + record["tuples"]
        else:
            (starts if "start" in record else ends)[record["i"]] = record
    order = sorted(starts)
    statements = []
    for position, index in enumerate(order):
        record = starts[index]
        end = ends.get(index, {}).get("end")
        # The last statement's span runs to the end of the process: a stopped run was
        # stopped in it (its start is counted from the child's start, a little after ours).
        following = starts[order[position + 1]]["start"] if position + 1 < len(order) else None
        span_end = following if following is not None else max(end or 0.0, total)
        statements.append({
            "i": index,
            "caller": record["caller"],
            "source": record["source"],
            "rows": ends.get(index, {}).get("rows"),
            "exec_s": round(end - record["start"], 3) if end is not None else None,
            "span_s": round(span_end - record["start"], 3),
            "tuples": tuples.get(index, 0),
            "unfinished": end is None,
            "sql": record["sql"][:1500],
        })
    return statements


def summarise_trace(path: Path, total: float, top: int = 15) -> dict[str, Any]:
    """The statements of one run, slowest first (see ``read_trace``)."""
    statements = read_trace(path, total)
    if not statements:
        return {}
    slowest = sorted(statements, key=lambda s: s["span_s"], reverse=True)[:top]
    for statement in slowest:
        statement["pct"] = round(100 * statement["span_s"] / total, 1) if total else None
    return {
        "count": len(statements),
        "commit_s": round(sum(s["exec_s"] or 0 for s in statements if s["sql"] == "COMMIT"), 3),
        "slowest": slowest,
    }


def figures(results: dict[str, Any], legacy: dict[str, int]) -> dict[str, Any]:
    runs, floor_s = results["runs"], results["floor"]["first"]["seconds"]
    first = runs["first"]["seconds"]
    every_source = results["floor"]["every_source"]["seconds"]
    with_records = results["floor"]["with_records"]["seconds"]
    rows = sum(legacy.values())
    users_keys_rows = legacy["users"] + legacy["user_api_keys"]
    f: dict[str, Any] = {
        "people": results["people"],
        "legacy_rows": rows,
        "floor_s": floor_s,
        "floor_rows_per_s": round(users_keys_rows / floor_s),
        "floor_rerun_s": results["floor"]["rerun"]["seconds"],
        "users_keys_s": runs["users_keys"]["seconds"],
        "users_keys_x_floor": round(runs["users_keys"]["seconds"] / floor_s, 2),
        "users_keys_rows_per_s": round(users_keys_rows / runs["users_keys"]["seconds"]),
        "full_s": first,
        "full_rows_per_s": round(rows / first),
        "full_x_floor": round(first / floor_s, 2),
        "floor_every_source_s": every_source,
        "floor_every_source_x_floor": round(every_source / floor_s, 2),
        "full_x_floor_every_source": round(first / every_source, 2),
        "floor_with_records_s": with_records,
        "floor_with_records_x_floor": round(with_records / floor_s, 2),
        "users_keys_x_floor_with_records": round(runs["users_keys"]["seconds"] / with_records, 2),
        "full_us_per_row": round(1e6 * first / rows, 1),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs.values()),
        "peak_rss_mb_full": runs["first"]["peak_rss_mb"],
        "rerun_s": runs["rerun"]["seconds"],
        "rerun_pct": round(100 * runs["rerun"]["seconds"] / first, 1),
        "rerun_1pct_s": runs["rerun_1pct"]["seconds"],
        "rerun_1pct_pct": round(100 * runs["rerun_1pct"]["seconds"] / first, 1),
        "verify_s": runs["verify"]["seconds"],
        "verify_stopped": runs["verify"]["timed_out"],
        "verify_x_first": round(runs["verify"]["seconds"] / first, 2),
        "verify_ok": runs["verify"]["exit_code"] == 0,
        "exit_codes": {name: r["exit_code"] for name, r in runs.items()},
        "timed_out": [name for name, r in runs.items() if r["timed_out"]],
    }
    if "admin" in results:
        f.update({f"admin_{name.replace(' ', '_')}_ms": page["ms_median"]
                  for name, page in results["admin"].items()})
    return f


# --- output ------------------------------------------------------------------------------

# (label, figure, format, the run whose time the figure is: ">" if that run was stopped)
ROWS = (
    ("people (rows in users)", "people", "{:,}", None),
    ("legacy rows, all sources", "legacy_rows", "{:,}", None),
    ("floor: users+keys INSERT ... SELECT (s)", "floor_s", "{:.1f}", None),
    ("floor rows/s", "floor_rows_per_s", "{:,}", None),
    ("floor re-run (s)", "floor_rerun_s", "{:.1f}", None),
    ("floor + origins and role groups of the same users (s)", "floor_with_records_s",
     "{:.1f}", None),
    ("  x floor", "floor_with_records_x_floor", "{:.2f}", None),
    ("floor of every source: the same plain copy of all rows (s)", "floor_every_source_s",
     "{:.1f}", None),
    ("  x floor", "floor_every_source_x_floor", "{:.2f}", None),
    ("users+keys via --source auth_service (s)", "users_keys_s", "{:.1f}", "users_keys"),
    ("  x floor (goal <= 1.2)", "users_keys_x_floor", "{:.2f}", "users_keys"),
    ("  x floor + records", "users_keys_x_floor_with_records", "{:.2f}", "users_keys"),
    ("full consolidation, every source (s)", "full_s", "{:.1f}", "first"),
    ("  legacy rows/s", "full_rows_per_s", "{:,}", "first"),
    ("  x floor (goal <= 1.5)", "full_x_floor", "{:.2f}", "first"),
    ("  x floor of every source", "full_x_floor_every_source", "{:.2f}", "first"),
    ("  us per legacy row (goal: growth <= 1.3x)", "full_us_per_row", "{:.1f}", "first"),
    ("peak RSS of any run (MB, goal < 150)", "peak_rss_mb", "{:.0f}", None),
    ("re-run, nothing new (s)", "rerun_s", "{:.1f}", "rerun"),
    ("  % of first run (goal < 5)", "rerun_pct", "{:.1f}", "rerun"),
    ("re-run after 1% new rows (s)", "rerun_1pct_s", "{:.1f}", "rerun_1pct"),
    ("  % of first run (goal < 10)", "rerun_1pct_pct", "{:.1f}", "rerun_1pct"),
    ("--verify (s)", "verify_s", "{:.1f}", "verify"),
    ("  x first run (goal < 1)", "verify_x_first", "{:.2f}", "verify"),
    ("  verify passed", "verify_ok", "{}", "verify"),
    ("admin: users changelist (ms, goal < 300)", "admin_users_ms", "{:.0f}", None),
    ("admin: legacy users changelist (ms)", "admin_legacy_users_ms", "{:.0f}", None),
    ("admin: review queue (ms, goal < 300)", "admin_review_queue_ms", "{:.0f}", None),
)


def table(all_figures: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table, one column per N."""
    header = "| figure | " + " | ".join(f"N = {f['people']:,}" for f in all_figures) + " |"
    lines = [header, "| --- |" + " ---: |" * len(all_figures)]
    for label, key, fmt, run in ROWS:
        cells = []
        for f in all_figures:
            value = f.get(key)
            stopped = run in f["timed_out"]
            if value is None:
                cells.append("-")
            elif stopped and key == "verify_ok":
                cells.append("stopped")
            else:
                bound = "<" if key.endswith("_per_s") else ">"
                cells.append((bound if stopped else "") + fmt.format(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if len(all_figures) >= 2:
        small, large = all_figures[0], all_figures[-1]
        growth = large["full_us_per_row"] / small["full_us_per_row"]
        memory = large["peak_rss_mb"] / small["peak_rss_mb"]
        lines.append("")
        lines.append(f"per-row cost at N = {large['people']:,} vs {small['people']:,}:"
                     f" {growth:.2f}x (goal <= 1.3); peak RSS {memory:.2f}x (goal: flat)")
    if any(f["timed_out"] for f in all_figures):
        lines.append("")
        lines.append('">": the run was stopped at that time (--timeout, --verify-timeout)')
    return "\n".join(lines)


def top_statements(results: dict[str, Any], run: str, count: int = 8) -> str:
    statements = results["runs"][run]["statements"].get("slowest", [])[:count]
    lines = [f"  slowest statements of '{run}' (N = {results['people']:,}):"]
    for s in statements:
        lines.append(f"    {s['span_s']:8.2f}s {s['pct'] or 0:5.1f}%  {s['source'] or '-':<20}"
                     f" {s['caller'][:70]}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                            "python": platform.python_version()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, action="append",
                        help="N, rows in users (repeatable; default 100000 and 1000000)")
    parser.add_argument("--server", default=os.environ.get(
        "BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server (a superuser: the bench creates a database, runs CHECKPOINT)")
    parser.add_argument("--db", default="authcore_bench",
                        help="database to create (dropped and recreated for each N)")
    parser.add_argument("--ref", help="benchmark this git ref instead of the working tree")
    parser.add_argument("--timeout", type=int, default=4 * 3600,
                        help="seconds before one migrate_legacy_users run is stopped")
    parser.add_argument("--verify-timeout", type=float, default=3.0, metavar="X",
                        help="stop --verify after X times the first run (at least 300 s;"
                        " default 3): its time is then reported as a lower bound")
    parser.add_argument("--pgoptions", help="PGOPTIONS for the engine's processes, for what-if"
                        " runs, e.g. '-c enable_nestloop=off' (recorded in the results)")
    parser.add_argument("--no-admin", action="store_true", help="skip the admin changelists")
    parser.add_argument("--explain", action="store_true",
                        help="afterwards, copy and verify once more with auto_explain: the "
                        "analysed plans of slow statements go to results/plans-*.txt")
    parser.add_argument("--explain-ms", type=int, default=500,
                        help="auto_explain threshold for --explain (default 500 ms)")
    parser.add_argument("--keep", action="store_true", help="keep the last database")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    sizes = sorted(args.people or [100_000, 1_000_000])
    args.out.mkdir(parents=True, exist_ok=True)

    # Stopped with SIGTERM (kill PID): leave through the finally blocks, which stop the
    # running command and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = Server(args.server, args.db)
    server.claim()
    project, state = snapshot(args.ref)
    state["pgoptions"] = args.pgoptions
    say(f"benchmarking {state['tree']} of {state['commit'][:12]} (snapshot in {project})")
    all_results = []
    try:
        for n in sizes:
            bench = Bench(args, project, server, n)
            results = bench.run()
            results.update(machine=machine(), postgres=server.info(), project=state,
                           date=time.strftime("%Y-%m-%d %H:%M:%S %z"))
            path = args.out / f"results-{n}.json"
            path.write_text(json.dumps(results, indent=2, default=str))
            say(f"N={n:,}: written {path}")
            all_results.append(results)
            print(top_statements(results, "first"), file=sys.stderr)
    finally:
        if args.keep:
            server.close()
        else:
            server.drop()
        server.release()
        shutil.rmtree(project, ignore_errors=True)
    summary = table([r["figures"] for r in all_results])
    m, pg = all_results[-1]["machine"], all_results[-1]["postgres"]
    summary += (f"\n\nmachine: {m.get('cpu')}, {m['cpus']} cores, {m.get('memory_gib')} GiB;"
                f" {pg['version'].split(' on ')[0]}, shared_buffers {pg['shared_buffers']},"
                f" work_mem {pg['work_mem']}, jit {pg['jit']}; project {state['tree']} of"
                f" {state['commit'][:12]}")
    (args.out / "summary.md").write_text(summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
