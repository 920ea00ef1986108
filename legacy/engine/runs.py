"""The record of each run (legacy.CopyRun): written when it starts, completed at its end."""

from __future__ import annotations

from django.utils import timezone

from legacy.catalog import FAILED, SUCCEEDED, VERIFY_FAILED
from legacy.engine.context import Context
from legacy.engine.sources import Source

# Consolidated tables whose counts every report shows.
CONSOLIDATED = (
    "accounts.User",
    "accounts.UserOrigin",
    "accounts.ApiKey",
    "accounts.Profile",
    "accounts.LoginSession",
    "accounts.Tenant",
    "accounts.Membership",
    "legacy.Hold",
    "natscreds.NatsAccount",
    "natscreds.NatsAuthSession",
    "legacy.RowIssue",
    "legacy.Conflict",
)


def counts(ctx: Context, sources: list[Source]) -> dict[str, int]:
    """Rows in each legacy table of ``sources`` and in each consolidated table."""
    found = {}
    for source in sources:
        for key in source.tables:
            table = ctx.legacy(key)
            if table is not None:
                found[key] = ctx.legacy_rows(table)
    for label in CONSOLIDATED:
        if ctx.has_model(label):  # an early migration's registry lacks later models
            found[ctx.model(label)._meta.db_table] = ctx.count(ctx.table_of(label))
    return found


def record_run(ctx: Context, trigger: str, sources: list[Source], dry_run: bool) -> None:
    """Record the run as started; its id goes on every row it writes."""
    if dry_run:
        return  # a dry run writes nothing, not even its own record
    run = (
        ctx.model("legacy.CopyRun")
        ._base_manager.db_manager(ctx.connection.alias)
        .create(started_at=ctx.now, trigger=trigger, sources=[s.name for s in sources])
    )
    ctx.run_id = ctx.report.run_id = run.pk


def finish_run(ctx: Context) -> None:
    """Record the outcome and the report; its ordinary commit makes every unit durable."""
    if ctx.run_id is None:
        return
    report = ctx.report
    outcome = SUCCEEDED
    if report.verification is not None and not report.verification.ok:
        outcome = VERIFY_FAILED
    data = report.as_dict()
    ctx.model("legacy.CopyRun")._base_manager.db_manager(ctx.connection.alias).filter(
        pk=ctx.run_id
    ).update(
        finished_at=timezone.now(),
        outcome=outcome,
        report={k: v for k, v in data.items() if k != "verification"},
        verification=data["verification"],
    )


def fail_run(ctx: Context) -> None:
    """Mark the run failed, if the database still answers (it may be what failed)."""
    if ctx.run_id is None or ctx.connection.in_atomic_block:
        return  # inside a migration the whole transaction, run record included, rolls back
    try:
        ctx.model("legacy.CopyRun")._base_manager.db_manager(ctx.connection.alias).filter(
            pk=ctx.run_id
        ).update(outcome=FAILED, finished_at=timezone.now(), report=ctx.report.as_dict())
    except Exception:  # the original error matters more than this one
        pass
