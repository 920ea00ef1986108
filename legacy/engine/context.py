"""The state one engine run carries between its steps."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps.registry import Apps
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from legacy.engine.report import Report
from legacy.engine.schema import LegacyTable, find_tables
from legacy.engine.sql import Dialect, Params

log = logging.getLogger("legacy.engine")


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
    dialect: Dialect = field(init=False)
    tables: dict[str, LegacyTable] = field(init=False)

    def __post_init__(self) -> None:
        self.dialect = Dialect(self.connection)
        self.tables = find_tables(self.apps, self.connection, self.dialect)

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
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params.values)
            count = cursor.rowcount
        log.debug("%s rows: %s", count, " ".join(sql.split())[:200])
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

    def stage(self, name: str, select_sql: str, params: Params) -> str:
        """Materialise ``select_sql`` as a temporary table; return its quoted name.

        Steps that would each re-run an expensive query (an anti-join over a big legacy
        table, regexes on every row) read the staged rows instead.
        """
        table = self.dialect.quote(f"authcore_stage_{name}")
        self.execute(f"DROP TABLE IF EXISTS {table}", Params())
        self.execute(f"CREATE TEMPORARY TABLE {table} AS {select_sql}", params)
        if self.dialect.vendor == "postgresql":
            self.execute(f"ANALYZE {table}", Params())  # plans for the steps that read it
        return table

    def drop_stage(self, table: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {table}", Params())

    def count(self, sql_table: str) -> int:
        return self.rows(f"SELECT COUNT(*) FROM {sql_table}", Params())[0][0]
