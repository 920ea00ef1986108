"""The copy engine: one algorithm, called by the copy migrations and by the command.

Callers pass an app registry: a RunPython migration hands in its historical ``apps``,
``migrate_legacy_users`` the live one. The engine only uses ``apps.get_model`` and plain
SQL (legacy/engine/sql.py), so it means the same thing whenever it runs.
"""

from __future__ import annotations

import time

from django.apps.registry import Apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from legacy.engine.context import CHUNK_ROWS, Context, Progress
from legacy.engine.foreign_keys import restore_foreign_keys, verify_foreign_keys
from legacy.engine.locking import CopyInProgress, exclusive_run
from legacy.engine.report import Report, Verification
from legacy.engine.runs import CONSOLIDATED, counts, fail_run, finish_run, record_run
from legacy.engine.sources import SOURCES, Source, UnknownSource, select
from legacy.engine.trust import note_held, release_proven

__all__ = [
    "SOURCES",
    "CopyInProgress",
    "Report",
    "UnknownSource",
    "Verification",
    "copy_legacy",
    "reverse_legacy",
    "verify_legacy",
]


def _context(apps: Apps, using: str, report: Report, progress: Progress | None = None) -> Context:
    return Context(
        apps=apps,
        connection=connections[using],
        report=report,
        now=timezone.now(),
        chunk_rows=getattr(settings, "LEGACY_COPY_CHUNK_ROWS", CHUNK_ROWS),
        on_progress=progress,
    )


def copy_legacy(
    apps: Apps,
    *,
    using: str = DEFAULT_DB_ALIAS,
    sources: list[str] | None = None,
    dry_run: bool = False,
    trigger: str = "command",
    wait: bool = False,
    sync: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Copy every legacy row not copied yet; return what happened.

    Idempotent: rows already copied are skipped, so a second run changes nothing. With
    ``sync``, rows changed in the legacy tables since they were copied are caught up too
    (legacy/engine/sync.py). With ``dry_run`` the same statements run inside a
    transaction that is rolled back, so the report shows exactly what a real run would
    do. Only one run at a time (``wait``: queue behind a running one instead of refusing).
    ``progress`` is called after each unit of work with (table, rows done, rows to do).
    """
    selected = select(sources)
    report = Report(sources=[s.name for s in selected], dry_run=dry_run)
    started = time.monotonic()
    with exclusive_run(connections[using], wait=wait):
        if dry_run:
            with transaction.atomic(using=using):
                ctx = _context(apps, using, report, progress)
                _begin(ctx, selected, trigger, dry_run=True)
                for source in selected:
                    _copy_source(ctx, source, sync)
                _end(ctx, selected, started)
                transaction.set_rollback(True, using=using)
            return report
        ctx = _context(apps, using, report, progress)
        restore_foreign_keys(ctx)  # those a killed run had set aside (foreign_keys.py)
        with transaction.atomic(using=using):
            _begin(ctx, selected, trigger, dry_run=False)
        try:
            for source in selected:
                # No transaction over the whole job: each unit of work (Context.unit, at
                # most CHUNK_ROWS legacy rows) commits on its own. A run that dies keeps
                # whole units only, each complete and consistent, and the next run resumes
                # after them; no lock is held longer than a unit takes. Inside a migration
                # the migration's transaction holds everything and units are savepoints.
                _copy_source(ctx, source, sync)
        except BaseException:
            fail_run(ctx)
            raise
        with transaction.atomic(using=using):
            _end(ctx, selected, started)
    return report


def _copy_source(ctx: Context, source: Source, sync: bool) -> None:
    source.copy(ctx)
    if sync and source.sync is not None:
        source.sync(ctx)


def _begin(ctx: Context, selected: list[Source], trigger: str, dry_run: bool) -> None:
    report = ctx.report
    report.tables_found = sorted(ctx.tables)
    if not ctx.tables:
        report.notes.append("no legacy tables found: nothing to copy")
    report.counts_before = counts(ctx, selected)
    if dry_run:
        _census(ctx, selected)
    record_run(ctx, trigger, selected, dry_run)
    # Holds whose source was declared verified since are let through by this run.
    release_proven(ctx)


def _refresh_statistics(ctx: Context) -> None:
    """Fresh planner statistics for authcore's own tables (never the legacy ones).

    Right after a copy PostgreSQL still believes the tables it filled are nearly empty,
    and plans --verify's joins as nested loops (docs/performance.md).
    """
    ctx.planner.refresh_statistics(*(label for label in CONSOLIDATED if ctx.has_model(label)))


def _end(ctx: Context, selected: list[Source], started: float) -> None:
    ctx.report.counts_after = counts(ctx, selected)
    note_held(ctx)
    # Statistics for the tables this run changed by more than their statistics can absorb
    # (Context.grew; the steps that note their own inserts have done so already): a re-run
    # with nothing or little new runs no ANALYZE. --verify analyses before it compares.
    before, after = ctx.report.counts_before, ctx.report.counts_after
    for label in CONSOLIDATED:
        if ctx.has_model(label) and not ctx.planner.noted(label):
            table = ctx.model(label)._meta.db_table
            ctx.planner.grew(label, abs(after.get(table, 0) - before.get(table, 0)))
    ctx.report.duration_seconds = round(time.monotonic() - started, 3)
    finish_run(ctx)


def _census(ctx: Context, sources: list[Source]) -> None:
    for source in sources:
        if source.census is not None:
            ctx.report.hash_census.update(source.census(ctx))


def verify_legacy(
    apps: Apps,
    *,
    using: str = DEFAULT_DB_ALIAS,
    sources: list[str] | None = None,
    sample_limit: int = 50,
    record: bool = True,
) -> Report:
    """Compare every legacy row with what it became; changes nothing but the run record."""
    selected = select(sources)
    report = Report(sources=[s.name for s in selected])
    started = time.monotonic()
    with transaction.atomic(using=using):
        ctx = _context(apps, using, report)
        report.tables_found = sorted(ctx.tables)
        _refresh_statistics(ctx)
        ctx.planner.whole_table_joins()
        report.counts_before = report.counts_after = counts(ctx, selected)
        if record:
            record_run(ctx, "verify", selected, dry_run=False)
        verification = Verification(sample_limit=sample_limit)
        for source in selected:
            source.verify(ctx, verification)
        verify_foreign_keys(ctx, verification)
        report.verification = verification
        report.duration_seconds = round(time.monotonic() - started, 3)
        finish_run(ctx)
    return report


def reverse_legacy(
    apps: Apps, *, using: str = DEFAULT_DB_ALIAS, sources: list[str] | None = None
) -> None:
    """Remove what the copy of ``sources`` created, newest source first."""
    selected = select(sources)
    with transaction.atomic(using=using):
        ctx = _context(apps, using, Report(sources=[s.name for s in selected]))
        for source in reversed(selected):
            source.reverse(ctx)
