"""The state one engine run carries between its steps."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps.registry import Apps
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from legacy.engine.report import Report
from legacy.engine.schema import LegacyTable, find_tables
from legacy.engine.sql import Dialect, Params

log = logging.getLogger("legacy.engine")

# Rows per unit of work: big enough that per-statement overhead vanishes, small enough
# that a unit commits in seconds and a killed run loses little.
CHUNK_ROWS = 50_000

# Rows written into a consolidated table before its statistics are refreshed (``grew``).
ANALYZE_AFTER_ROWS = 10_000

Progress = Callable[[str, int, int], None]  # (legacy table, rows done, rows to do)


@dataclass
class Context:
    """Registry, connection and report for one run; models come from ``apps`` only.

    ``apps`` is the historical registry inside a migration and the live one in the
    command, so the engine must not rely on model methods or managers.
    """

    apps: Apps
    connection: BaseDatabaseWrapper
    report: Report
    now: datetime
    run_id: int | None = None
    chunk_rows: int = CHUNK_ROWS
    on_progress: Progress | None = None
    dialect: Dialect = field(init=False)
    tables: dict[str, LegacyTable] = field(init=False)
    # Per consolidated table: rows the planner knew of at this run's last ANALYZE, and
    # rows written since (see ``grew``).
    _analysed_rows: dict[str, float] = field(init=False, default_factory=dict)
    _written_rows: dict[str, int] = field(init=False, default_factory=dict)
    _legacy_rows: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.dialect = Dialect(self.connection)
        self.tables = find_tables(self.apps, self.connection, self.dialect)
        if self.dialect.vendor == "postgresql":
            # No JIT compilation for this connection: the engine's statements each read
            # their rows once, and over legacy tables without statistics PostgreSQL's
            # estimates run high enough to trigger JIT's inlining and optimisation, which
            # took 0.95 s of a 0.99 s statement staging 100,000 keys (EXPLAIN ANALYZE).
            self.execute("SET jit = off", Params())

    def model(self, label: str) -> type[Model]:
        app_label, name = label.split(".")
        return self.apps.get_model(app_label, name)

    def has_model(self, label: str) -> bool:
        try:
            self.model(label)
        except LookupError:
            return False
        return True

    def table_of(self, label: str) -> str:
        """The quoted table name of a consolidated model, e.g. ``accounts.User``."""
        return self.dialect.quote(self.model(label)._meta.db_table)

    def legacy(self, key: str) -> LegacyTable | None:
        return self.tables.get(key)

    def params(self, **values: Any) -> Params:
        """Parameters every statement shares: run time and run id, plus ``values``."""
        params = Params()
        # SQLite keeps datetimes as text: store them exactly as the ORM would.
        now = self.connection.ops.adapt_datetimefield_value(self.now)
        params.values.update(now=now, run=self.run_id, **values)
        return params

    def execute(self, sql: str, params: Params) -> int:
        """Run one statement; return how many rows it touched."""
        started = time.monotonic()
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params.values)
            count = cursor.rowcount
        log.debug(
            "%.3fs %s rows: %s", time.monotonic() - started, count, " ".join(sql.split())[:160]
        )
        return max(count, 0)

    def rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        """Run a query whose result is small by construction (counts, groups)."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params.values)
            return cursor.fetchall()

    def stream(self, sql: str, params: Params, chunk: int = 2000):
        """Yield the rows of a query without holding them all in memory."""
        with self.connection.chunked_cursor() as cursor:
            cursor.execute(sql, params.values)
            while batch := cursor.fetchmany(chunk):
                yield from batch

    def stage(
        self,
        name: str,
        select_sql: str,
        params: Params,
        order_by: str | None = None,
        numbered: bool = False,
    ) -> str:
        """Materialise ``select_sql`` as a temporary table; return its quoted name.

        Steps that would each re-run an expensive query (an anti-join over a big legacy
        table, regexes on every row) read the staged rows instead. With ``order_by``
        (over alias ``n``) each staged row gets ``seq``, its place in that order, for
        ``chunks``. A query that numbers its rows itself (``numbered``: its ``seq`` column,
        from 1 without gaps) spares that sort where it sorts the rows anyway.
        """
        table = self.dialect.quote(f"authcore_stage_{name}")
        self.execute(f"DROP TABLE IF EXISTS {table}", Params())
        if order_by is None:
            self.execute(f"CREATE TEMPORARY TABLE {table} AS {select_sql}", params)
        else:
            self.execute(
                f"CREATE TEMPORARY TABLE {table} AS SELECT n.*,"
                f" ROW_NUMBER() OVER (ORDER BY {order_by}) AS seq FROM ({select_sql}) n",
                params,
            )
        if order_by is not None or numbered:
            index = self.dialect.quote(f"authcore_stage_{name}_seq")
            self.execute(f"CREATE INDEX {index} ON {table} (seq)", Params())
        if self.dialect.vendor == "postgresql":
            self.execute(f"ANALYZE {table}", Params())  # plans for the steps that read it
        return table

    def chunks(self, table_key: str, staged: str, total: int) -> Iterator[str]:
        """Split a staged table of ``total`` rows into units of work, each a subquery to
        use as ``FROM``.

        The caller runs each unit in ``self.unit()``: outside a migration every unit
        commits on its own, so a killed run keeps whole units only and the next run
        resumes after them; progress is reported after each unit.
        """
        for low, high in self.unit_ranges(table_key, total):
            yield self.unit_rows(staged, low, high)

    def unit_ranges(self, table_key: str, total: int) -> Iterator[tuple[int, int]]:
        """The ``seq`` ranges of ``chunks``, reporting progress after each."""
        if self.on_progress is not None and total:
            self.on_progress(table_key, 0, total)  # the clock starts here
        for low in range(1, total + 1, self.chunk_rows):
            high = min(low + self.chunk_rows - 1, total)
            yield low, high
            if self.on_progress is not None:
                self.on_progress(table_key, high, total)

    @staticmethod
    def unit_rows(staged: str, low: int, high: int) -> str:
        """The staged rows ``low`` to ``high`` (by ``seq``), as a subquery."""
        return f"(SELECT * FROM {staged} WHERE seq BETWEEN {int(low)} AND {int(high)})"

    @contextmanager
    def unit(self, reads_legacy: bool = True) -> Iterator[None]:
        """One unit of work: a transaction (a savepoint inside a migration's).

        A unit whose statements read legacy tables joins them by hashes only (see
        ``whole_table_joins``): a legacy table nobody analysed can look empty to the
        planner. A unit over staged rows and authcore's own tables (``reads_legacy=False``)
        leaves the choice to the planner, whose statistics ``grew`` keeps fresh; where a
        hash join would read a whole consolidated table once per unit, the unit asks for
        index look-ups (``index_joins``), so that its cost follows its rows, not the table.
        """
        own_transaction = not self.connection.in_atomic_block
        with transaction.atomic(using=self.connection.alias):
            if own_transaction:
                self.commit_without_waiting()
            if reads_legacy:
                self.whole_table_joins()
            yield

    def commit_without_waiting(self) -> None:
        """This transaction's COMMIT does not wait for the disk (PostgreSQL's asynchronous
        commit); only for a unit that is a transaction of its own.

        A unit can always be done again: should the server crash in the moment after a
        unit committed (at most three times ``wal_writer_delay``), the unit is lost whole,
        as if the crash had come before it, and the next run does it again (the legacy
        tables are never written). Nothing else is lost: PostgreSQL writes its log in
        order, so the next commit that waits (the run's record at its end, or any other
        session's write) makes every unit before it durable, and a run is only reported
        done after that. At a million people a unit of keys waited 23 ms for its commit,
        and 2 ms without waiting for the disk.
        """
        if self.dialect.vendor == "postgresql":
            self.execute("SET LOCAL synchronous_commit = off", Params())

    def refresh_statistics(self, *labels: str) -> None:
        """Let PostgreSQL's planner see rows this run just inserted.

        Without it the planner still believes a freshly filled table is empty and picks
        nested loops that turn a one-second join into minutes. Cheap: ANALYZE samples.
        """
        if self.dialect.vendor == "postgresql":
            for label in labels:
                self.execute(f"ANALYZE {self.table_of(label)}", Params())
                self._analysed_rows[label] = self._planner_rows(label)
                self._written_rows[label] = 0

    def grew(self, label: str, rows: int, plans_unchanged: bool = False) -> None:
        """Note ``rows`` inserted into ``label``; ANALYZE it once it has doubled (or at once,
        if it had no statistics).

        The planner scales a table's row count by its current size on disk, so what it
        lacks after an insert is only the first statistics of a table that was empty, and
        column statistics that drift as the table grows: one ANALYZE per doubling keeps
        them within a factor of two at a cost that does not grow with the number of units.
        Where no statement of the rest of the step would be planned differently
        (``plans_unchanged``: the step only writes the table, or reads it only by index
        look-ups, ``index_joins``), its doublings wait for ``grown`` at the step's end:
        one ANALYZE where a million keys took five (1.5 s).
        """
        if self.dialect.vendor != "postgresql" or not rows:
            return
        if label not in self._analysed_rows:
            self._analysed_rows[label] = self._planner_rows(label)
        self._written_rows[label] = self._written_rows.get(label, 0) + rows
        known = self._analysed_rows[label]
        # A table the planner believes empty gets statistics at once, however few rows it
        # got: a thousand tenants taken for a handful made a nested loop of a million users
        # over them (70 s).
        if known <= 0 or (not plans_unchanged and self._doubled(label)):
            self.refresh_statistics(label)

    def grown(self, label: str) -> None:
        """At the end of a step: ANALYZE ``label`` if what it got (``grew`` with
        ``plans_unchanged``) doubled it since its last statistics."""
        if self._doubled(label):
            self.refresh_statistics(label)

    def _doubled(self, label: str) -> bool:
        """Rows written to ``label`` since its last statistics reach what they knew of (and
        at least ``ANALYZE_AFTER_ROWS``)."""
        written = self._written_rows.get(label, 0)
        known = self._analysed_rows.get(label, 0)
        return written > 0 and written >= max(ANALYZE_AFTER_ROWS, known)

    def noted(self, label: str) -> bool:
        """Whether this run has noted writes to ``label`` through ``grew``."""
        return label in self._written_rows

    def _planner_rows(self, label: str) -> float:
        """The row count PostgreSQL's statistics hold for ``label`` (0: never analysed)."""
        db_table = self.model(label)._meta.db_table
        rows = self.rows(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%(table)s)",
            Params({"table": self.dialect.quote(db_table)}),
        )
        return max(float(rows[0][0]), 0.0) if rows and rows[0][0] is not None else 0.0

    def whole_table_joins(self) -> None:
        """For the rest of this transaction, join with hashes and merges, never nested loops.

        --verify compares whole tables with whole tables, where a hash join is always
        right; but a legacy table nobody ever ANALYZEd (and the copy must not touch it)
        can look nearly empty to PostgreSQL, which then nests a full scan of it inside
        a loop over a million rows. PostgreSQL only; SQLite has no such choice to make.
        """
        if self.dialect.vendor == "postgresql":
            self.execute("SET LOCAL enable_nestloop = off", Params())

    @contextmanager
    def index_joins(self) -> Iterator[None]:
        """Inside a unit: join by looking rows up through indexes, for the block's statements.

        They join the unit's staged rows with authcore's tables on columns with a unique
        index (the email key, the legacy id, the primary key). The planner prices each
        look-up as a disk read and picks a hash join, which reads the whole user table once
        per unit: at a million users, recording a unit's origins took 0.75 s that way and
        0.4 s by look-ups, and the look-ups do not grow with the table. Only for statements
        whose every join has such an index, and whose every table has statistics: staged
        and consolidated tables, never a legacy one. ``x IN (SELECT ...)`` is a join too,
        safe here only where the subquery's rows are few by construction (a unit's merged
        rows): a DELETE of the issues of a first run's every fresh credential became a
        nested loop over both (459 s at a million). Nested loops are allowed even in a
        unit that forbids them (``whole_table_joins``). PostgreSQL only; the settings are
        put back as they were after the block (a migration's transaction goes on).
        """
        if self.dialect.vendor != "postgresql":
            yield
            return
        wanted = {"enable_hashjoin": "off", "enable_mergejoin": "off", "enable_nestloop": "on"}
        before = self._planner_settings(wanted)
        yield
        self._planner_settings(before)

    def _planner_settings(self, values: dict[str, str]) -> dict[str, str]:
        """SET LOCAL each setting to its value; return the values they had."""
        params = Params()
        names = [params.add(name) for name in values]
        old = self.rows(f"SELECT {', '.join(f'current_setting({n})' for n in names)}", params)
        settings = ", ".join(
            f"set_config({name}, {params.add(value)}, TRUE)"
            for name, value in zip(names, values.values(), strict=True)
        )
        self.rows(f"SELECT {settings}", params)
        return dict(zip(values, old[0], strict=True))

    def drop_stage(self, table: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {table}", Params())

    def count(self, sql_table: str) -> int:
        return self.rows(f"SELECT COUNT(*) FROM {sql_table}", Params())[0][0]

    def legacy_rows(self, table: LegacyTable) -> int:
        """Rows in legacy ``table``, counted once per run and reused by the report's
        before and after counts and the table's step: the engine never writes a legacy
        table, and at a million rows every count is a pass over it (a re-run with nothing
        new spent a twelfth of its statements' time counting the same tables three times)."""
        if table.key not in self._legacy_rows:
            self._legacy_rows[table.key] = self.count(table.sql)
        return self._legacy_rows[table.key]
