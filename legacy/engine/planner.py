"""PostgreSQL's planner, tuned for the copy: the one seam for it (a no-op on SQLite).

The engine's statements read staged rows and authcore's own tables, and join legacy
tables nobody ever analysed; the planner needs fresh statistics of what a run wrote, and
now and then to be told which joins are right. Measurements behind each choice:
docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from legacy.engine.sql import Params

if TYPE_CHECKING:
    from legacy.engine.context import Context

# Rows written into a consolidated table before its statistics are refreshed (``grew``).
ANALYZE_AFTER_ROWS = 10_000


class Planner:
    """A database whose planner needs no help (SQLite): every method does nothing."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def start(self) -> None:
        """Settings for the whole connection, once per run."""

    def analyze(self, sql_table: str) -> None:
        """Statistics for a table just made (a stage), for the steps that read it."""

    def commit_without_waiting(self) -> None:
        """This transaction's COMMIT does not wait for the disk."""

    def refresh_statistics(self, *labels: str) -> None:
        """Let the planner see the rows this run just inserted into ``labels``."""

    def grew(self, label: str, rows: int, plans_unchanged: bool = False) -> None:
        """Note ``rows`` inserted into ``label``."""

    def grown(self, label: str) -> None:
        """At the end of a step: statistics for ``label`` if it doubled."""

    def noted(self, label: str) -> bool:
        """Whether this run has noted writes to ``label`` through ``grew``."""
        return False

    def whole_table_joins(self) -> None:
        """For the rest of this transaction, join with hashes and merges only."""

    @contextmanager
    def index_joins(self) -> Iterator[None]:
        """Inside a unit: join by looking rows up through indexes, for the block."""
        yield


class PostgresPlanner(Planner):
    """PostgreSQL: statistics kept fresh as the run writes, and joins chosen where the
    statistics cannot tell."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # Per consolidated table: rows the planner knew of at this run's last ANALYZE, and
        # rows written since (see ``grew``).
        self._analysed_rows: dict[str, float] = {}
        self._written_rows: dict[str, int] = {}

    def start(self) -> None:
        """No JIT compilation: each statement reads its rows once, and over legacy tables
        without statistics the estimates run high enough to make JIT cost more than the
        statement."""
        self.ctx.execute("SET jit = off", Params())

    def analyze(self, sql_table: str) -> None:
        self.ctx.execute(f"ANALYZE {sql_table}", Params())

    def commit_without_waiting(self) -> None:
        """Asynchronous commit, only for a unit that is a transaction of its own.

        A unit can always be done again: should the server crash in the moment after a
        unit committed (at most three times ``wal_writer_delay``), the unit is lost whole,
        as if the crash had come before it, and the next run does it again (the legacy
        tables are never written). Nothing else is lost: PostgreSQL writes its log in
        order, so the next commit that waits (the run's record at its end, or any other
        session's write) makes every unit before it durable, and a run is only reported
        done after that.
        """
        self.ctx.execute("SET LOCAL synchronous_commit = off", Params())

    def refresh_statistics(self, *labels: str) -> None:
        """Without it the planner still believes a freshly filled table is empty and picks
        nested loops over it. Cheap: ANALYZE samples."""
        for label in labels:
            self.analyze(self.ctx.table_of(label))
            self._analysed_rows[label] = self._planner_rows(label)
            self._written_rows[label] = 0

    def grew(self, label: str, rows: int, plans_unchanged: bool = False) -> None:
        """ANALYZE ``label`` once it has doubled (or at once, if it had no statistics).

        The planner scales a table's row count by its current size on disk, so what it
        lacks after an insert is only the first statistics of a table that was empty, and
        column statistics that drift as the table grows: one ANALYZE per doubling keeps
        them within a factor of two at a cost that does not grow with the number of units.
        Where no statement of the rest of the step would be planned differently
        (``plans_unchanged``: the step only writes the table, or reads it only by index
        look-ups, ``index_joins``), its doublings wait for ``grown`` at the step's end.
        """
        if not rows:
            return
        if label not in self._analysed_rows:
            self._analysed_rows[label] = self._planner_rows(label)
        self._written_rows[label] = self._written_rows.get(label, 0) + rows
        # A table the planner believes empty gets statistics at once, however few rows it
        # got: it would otherwise be the inner side of a nested loop over a big one.
        if self._analysed_rows[label] <= 0 or (not plans_unchanged and self._doubled(label)):
            self.refresh_statistics(label)

    def grown(self, label: str) -> None:
        if self._doubled(label):
            self.refresh_statistics(label)

    def _doubled(self, label: str) -> bool:
        """Rows written to ``label`` since its last statistics reach what they knew of (and
        at least ``ANALYZE_AFTER_ROWS``)."""
        written = self._written_rows.get(label, 0)
        known = self._analysed_rows.get(label, 0)
        return written > 0 and written >= max(ANALYZE_AFTER_ROWS, known)

    def noted(self, label: str) -> bool:
        return label in self._written_rows

    def _planner_rows(self, label: str) -> float:
        """The row count PostgreSQL's statistics hold for ``label`` (0: never analysed)."""
        db_table = self.ctx.model(label)._meta.db_table
        rows = self.ctx.rows(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%(table)s)",
            Params({"table": self.ctx.dialect.quote(db_table)}),
        )
        return max(float(rows[0][0]), 0.0) if rows and rows[0][0] is not None else 0.0

    def whole_table_joins(self) -> None:
        """--verify compares whole tables with whole tables, where a hash join is always
        right; but a legacy table nobody ever analysed (and the copy must not touch it)
        can look nearly empty to PostgreSQL, which then nests a full scan of it inside a
        loop over a million rows."""
        self.ctx.execute("SET LOCAL enable_nestloop = off", Params())

    @contextmanager
    def index_joins(self) -> Iterator[None]:
        """For statements that join the unit's staged rows with authcore's tables on
        columns with a unique index (the email key, the legacy id, the primary key).

        The planner prices each look-up as a disk read and picks a hash join, which reads
        the whole table once per unit; look-ups do not grow with the table. Only for
        statements whose every join has such an index, and whose every table has
        statistics: staged and consolidated tables, never a legacy one. ``x IN (SELECT
        ...)`` is a join too, safe here only where the subquery's rows are few by
        construction (a unit's merged rows). Nested loops are allowed even in a unit that
        forbids them (``whole_table_joins``); the settings are put back as they were after
        the block (a migration's transaction goes on).
        """
        wanted = {"enable_hashjoin": "off", "enable_mergejoin": "off", "enable_nestloop": "on"}
        before = self._set(wanted)
        yield
        self._set(before)

    def _set(self, values: dict[str, str]) -> dict[str, str]:
        """SET LOCAL each setting to its value; return the values they had."""
        params = Params()
        names = [params.add(name) for name in values]
        old = self.ctx.rows(f"SELECT {', '.join(f'current_setting({n})' for n in names)}", params)
        settings = ", ".join(
            f"set_config({name}, {params.add(value)}, TRUE)"
            for name, value in zip(names, values.values(), strict=True)
        )
        self.ctx.rows(f"SELECT {settings}", params)
        return dict(zip(values, old[0], strict=True))


def planner_for(ctx: Context) -> Planner:
    """The planner seam of ``ctx``'s database (legacy/engine/sql.py says which needs one)."""
    return PostgresPlanner(ctx) if ctx.dialect.tunes_planner else Planner(ctx)
