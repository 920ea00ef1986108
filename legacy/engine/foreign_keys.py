"""Foreign keys set aside while a large step inserts, and put back checked (PostgreSQL).

A deferred foreign key checks every inserted row at commit: an index probe and a lock
on the row it points at, where PostgreSQL checks a constraint it adds with one join over
the whole table (figures: docs/performance.md). Its own advice for bulk loads
("Populating a Database") is the same: drop the foreign keys, load, add them back.

Only where that is safe and pays:
- outside a transaction (the command: each unit commits). Inside a migration, a dry run
  or a test's transaction, ALTER TABLE refuses a table with deferred checks pending;
- for a step that inserts at least ``LEGACY_COPY_SUSPEND_FK_ROWS`` rows and an eighth of
  what its largest table already holds: a row's own check costs about ten times its share
  of one check of the whole table. A re-run's few new rows keep their per-row checks;
- when the tables can be locked within ``LOCK_TIMEOUT``: dropping a constraint needs an
  exclusive lock for a moment, and waiting for one would queue every login behind it.

Each constraint set aside is recorded (``legacy.SuspendedForeignKey``) in the transaction
that drops it. It is put back when the step ends, failed or not, and a run that was killed
meanwhile leaves the record, so the next run puts it back before it copies anything. The
constraint is added ``NOT VALID`` (a moment's lock; new rows are checked from then on) and
validated in a second transaction, which does not block writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import ManyToManyField

from legacy.engine.context import Context
from legacy.engine.report import Problem, Verification
from legacy.engine.sql import Params

log = logging.getLogger("legacy.engine")

MODEL = "legacy.SuspendedForeignKey"

# Rows a step inserts before its tables' foreign keys are set aside.
SUSPEND_AFTER_ROWS = 100_000

# How long to wait for the moment's exclusive lock before keeping the per-row checks.
LOCK_TIMEOUT = "2s"


def _recordable(ctx: Context) -> bool:
    """A database that can (PostgreSQL), with the table of records (an early migration's
    registry lacks it)."""
    return ctx.dialect.sets_aside_foreign_keys and ctx.has_model(MODEL)


@contextmanager
def checked_afterwards(ctx: Context, rows: int, *labels: str) -> Iterator[None]:
    """Set aside the foreign keys of ``labels`` while the block inserts about ``rows`` rows.

    ``labels`` are models (``accounts.UserOrigin``) or through tables (``accounts.User.groups``).
    Does nothing where it is not safe or would not pay (see the module docstring).
    """
    threshold = getattr(settings, "LEGACY_COPY_SUSPEND_FK_ROWS", SUSPEND_AFTER_ROWS)
    if not _recordable(ctx) or ctx.connection.in_atomic_block or rows < threshold:
        yield
        return
    tables = [db_table_of(ctx, label) for label in labels]
    if rows * 8 < max(ctx.count(ctx.dialect.quote(table)) for table in tables):
        yield
        return
    suspended = _suspend(ctx, tables)
    try:
        yield
    except BaseException:
        if suspended:
            try:
                restore_foreign_keys(ctx)
            except Exception:  # the step's own error matters more; the next run retries
                log.exception("could not put the foreign keys back; the next run will")
        raise
    if suspended:
        restore_foreign_keys(ctx)


def restore_foreign_keys(ctx: Context) -> None:
    """Put back every foreign key set aside and not put back yet.

    If rows written meanwhile break one (a user deleted by hand while its rows were being
    copied), the constraint stays in place ``NOT VALID``, so that it checks new rows, and
    its record stays: the report's notes name the constraint and a row that breaks it,
    --verify fails on it, and the next run validates it again.
    """
    if not _recordable(ctx):
        return
    d = ctx.dialect
    marker = ctx.table_of(MODEL)
    records = ctx.rows(
        f"SELECT id, table_name, constraint_name, definition FROM {marker} ORDER BY id",
        Params(),
    )
    for pk, table, name, definition in records:
        with transaction.atomic(using=ctx.connection.alias):
            if not _exists(ctx, table, name):
                ctx.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {d.quote(name)} {definition} NOT VALID",
                    Params(),
                )
        try:
            with transaction.atomic(using=ctx.connection.alias):
                ctx.execute(
                    f"ALTER TABLE {table} VALIDATE CONSTRAINT {d.quote(name)}",
                    Params(),
                )
                ctx.execute(f"DELETE FROM {marker} WHERE id = %(pk)s", Params({"pk": pk}))
        except DatabaseError as exc:
            diag = getattr(exc.__cause__, "diag", None)
            why = (diag.message_detail if diag is not None else None) or str(exc)
            note = (
                f"foreign key {name} of {table} was set aside for the copy, and rows written"
                f" meanwhile break it ({' '.join(why.split())}); it is back NOT VALID (new"
                f" rows are checked): fix or delete those rows, and the next run validates it"
            )
            log.warning("%s", note)
            ctx.report.notes.append(note)


def verify_foreign_keys(ctx: Context, v: Verification) -> None:
    """A foreign key still set aside, or back but not validated, is a problem for --verify."""
    if not _recordable(ctx):
        return
    records = ctx.rows(
        f"SELECT table_name, constraint_name FROM {ctx.table_of(MODEL)} ORDER BY id", Params()
    )
    for table, name in records:
        v.add(Problem(table, "", "foreign_key_not_validated", name))


def _suspend(ctx: Context, tables: list[str]) -> bool:
    """Drop the foreign keys of ``tables`` and record them, each table by its name as
    PostgreSQL prints it (``regclass``, quoted where needed); False if the locks were busy."""
    marker = ctx.table_of(MODEL)
    params = Params()
    wanted = ", ".join(f"to_regclass({params.add(ctx.dialect.quote(t))})" for t in tables)
    try:
        with transaction.atomic(using=ctx.connection.alias):
            ctx.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'", Params())
            constraints = ctx.rows(
                f"SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
                f" FROM pg_constraint c WHERE c.contype = 'f' AND c.convalidated"
                f" AND c.conrelid IN ({wanted}) ORDER BY 1, 2",
                params,
            )
            for table, name, definition in constraints:
                ctx.execute(
                    f"INSERT INTO {marker} (table_name, constraint_name, definition, set_aside_at)"
                    f" VALUES (%(table)s, %(name)s, %(definition)s, %(now)s)",
                    ctx.params(table=table, name=name, definition=definition),
                )
                ctx.execute(
                    f"ALTER TABLE {table} DROP CONSTRAINT {ctx.dialect.quote(name)}", Params()
                )
    except DatabaseError as exc:  # lock_timeout: someone holds the tables; keep the checks
        log.info("foreign keys kept (per-row checks): %s", " ".join(str(exc).split()))
        return False
    return bool(constraints)


def _exists(ctx: Context, table: str, name: str) -> bool:
    return bool(
        ctx.rows(
            "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%(table)s)"
            " AND conname = %(name)s",
            Params({"table": table, "name": name}),
        )
    )


def db_table_of(ctx: Context, label: str) -> str:
    """The table of ``app.Model``, or of ``app.Model.m2m_field`` (its through table)."""
    app_label, model_name, *field = label.split(".")
    model = ctx.model(f"{app_label}.{model_name}")
    if field:
        many = model._meta.get_field(field[0])
        assert isinstance(many, ManyToManyField)
        through = many.remote_field.through
        assert through is not None
        return through._meta.db_table
    return model._meta.db_table
