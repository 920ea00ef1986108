"""The state one engine run carries between its steps: its registry and connection, how it
runs statements, stages rows and splits them into units of work.

PostgreSQL's tuning is behind ``Context.planner`` (legacy/engine/planner.py), the run's
record in legacy/engine/runs.py.
"""

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
from django.db.models import Field, Model

from legacy.engine.planner import Planner, planner_for
from legacy.engine.report import Report
from legacy.engine.schema import LegacyTable, find_tables
from legacy.engine.sql import Dialect, Params

log = logging.getLogger("legacy.engine")

# Rows per unit of work: big enough that per-statement overhead vanishes, small enough
# that a unit commits in seconds and a killed run loses little.
CHUNK_ROWS = 50_000

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
    planner: Planner = field(init=False)
    _legacy_rows: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.dialect = Dialect(self.connection)
        self.tables = find_tables(self.apps, self.connection, self.dialect)
        self.planner = planner_for(self)
        self.planner.start()

    def model(self, label: str) -> type[Model]:
        app_label, name = label.split(".")
        return self.apps.get_model(app_label, name)

    def has_model(self, label: str) -> bool:
        try:
            self.model(label)
        except LookupError:
            return False
        return True

    def max_length(self, label: str, field: str) -> int:
        """How many characters ``field`` of model ``label`` holds."""
        column = self.model(label)._meta.get_field(field)
        assert isinstance(column, Field) and column.max_length is not None
        return column.max_length

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
            count = int(cursor.rowcount)
        log.debug(
            "%.3fs %s rows: %s", time.monotonic() - started, count, " ".join(sql.split())[:160]
        )
        return max(count, 0)

    def insert_new(
        self, label: str, columns: str, values: str, rows_sql: str, unique: str, params: Params
    ) -> int:
        """Insert ``values`` (over ``r``, each row of ``rows_sql``) into ``columns`` of model
        ``label``; return how many rows were new.

        A row its unique index (``unique``) already holds is skipped by the index itself, a
        probe per row, where an anti-join would read the whole table in every unit.
        """
        inserted = self.execute(
            f"INSERT INTO {self.table_of(label)} ({columns}) SELECT {values}"
            # WHERE: SQLite would read "ON CONFLICT" as the join condition of ``r`` otherwise.
            f" FROM ({rows_sql}) r WHERE 1 = 1 ON CONFLICT ({unique}) DO NOTHING",
            params,
        )
        self.planner.grew(label, inserted)
        return inserted

    def rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        """Run a query whose result is small by construction (counts, groups)."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params.values)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

    def stream(self, sql: str, params: Params, chunk: int = 2000) -> Iterator[tuple[Any, ...]]:
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
        self.planner.analyze(table)  # plans for the steps that read it
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
        ``Planner.whole_table_joins``): a legacy table nobody analysed can look empty to
        the planner. A unit over staged rows and authcore's own tables
        (``reads_legacy=False``) leaves the choice to the planner, whose statistics
        ``Planner.grew`` keeps fresh; where a hash join would read a whole consolidated
        table once per unit, the unit asks for index look-ups (``Planner.index_joins``), so
        that its cost follows its rows, not the table. A unit that is a transaction of its
        own commits without waiting for the disk (``Planner.commit_without_waiting``).
        """
        own_transaction = not self.connection.in_atomic_block
        with transaction.atomic(using=self.connection.alias):
            if own_transaction:
                self.planner.commit_without_waiting()
            if reads_legacy:
                self.planner.whole_table_joins()
            yield

    def drop_stage(self, table: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {table}", Params())

    def count(self, sql_table: str) -> int:
        return int(self.rows(f"SELECT COUNT(*) FROM {sql_table}", Params())[0][0])

    def legacy_rows(self, table: LegacyTable) -> int:
        """Rows in legacy ``table``, counted once per run and reused by the report's
        before and after counts and the table's step: the engine never writes a legacy
        table, and every count is a pass over it."""
        if table.key not in self._legacy_rows:
            self._legacy_rows[table.key] = self.count(table.sql)
        return self._legacy_rows[table.key]
