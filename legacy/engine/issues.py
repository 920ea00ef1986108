"""Rows the copy could not take as they are: recorded with a reason, never dropped."""

from __future__ import annotations

from legacy.catalog import REJECTED as REJECTED  # re-exported for the engine's steps
from legacy.catalog import WARNING as WARNING  # re-exported for the admin
from legacy.engine.context import Context
from legacy.engine.sql import Params


def record_issues(ctx: Context, source: str, kind: str, rows_sql: str, params: Params) -> int:
    """Record each row of ``rows_sql`` (columns legacy_id, reason, detail) as a RowIssue.

    A row already recorded with the same reason is left alone, so re-runs add nothing:
    the unique index on (source, legacy_id, reason) skips it, a probe per row, where an
    anti-join would read every issue of the source in every unit. Returns how many were new.
    """
    params.values.update(issue_source=source, issue_kind=kind)
    return ctx.insert_new(
        "legacy.RowIssue",
        "source, legacy_id, kind, reason, detail, first_seen_at, run_id",
        "%(issue_source)s, r.legacy_id, %(issue_kind)s, r.reason,"
        " COALESCE(r.detail, ''), %(now)s, %(run)s",
        rows_sql,
        "source, legacy_id, reason",
        params,
    )


def was_rejected(ctx: Context, legacy_id: str, params: Params) -> str:
    """SQL: 1 if the row of ``%(source)s`` with id ``legacy_id`` has a rejection on record.

    Staged once per table, so that each unit forgets the rejections of its fixed rows
    without comparing its rows with every rejection of the source. A correlated
    subquery, which PostgreSQL runs in the leader process only: in a staging query, put
    it in a level above the per-row checks, never beside them, or none of them runs in
    parallel workers.
    """
    return f"CASE WHEN {rejection_on_record(ctx, legacy_id, params)} THEN 1 ELSE 0 END"


def rejection_on_record(
    ctx: Context, legacy_id: str, params: Params, source: str = "%(source)s"
) -> str:
    """SQL: the row of ``source`` (a placeholder) with id ``legacy_id`` has a rejection on
    record (an EXISTS over the issues' unique index)."""
    issue = ctx.table_of("legacy.RowIssue")
    return (
        f"EXISTS (SELECT 1 FROM {issue} i WHERE i.source = {source}"
        f" AND i.legacy_id = {legacy_id} AND i.kind = {params.add(REJECTED)})"
    )


def has_fixed_rows(ctx: Context, staged: str) -> bool:
    """Whether a staged table (with ``was_rejected``) holds rows rejected before and not now.

    Usually none: the units then skip ``clear_fixed`` altogether, rather than leave the
    planner to pair every rejection of the source with every row of the unit.
    """
    return bool(
        ctx.rows(
            f"SELECT COUNT(*) FROM {staged} WHERE was_rejected = 1 AND reject_reason IS NULL",
            Params(),
        )[0][0]
    )


def clear_fixed(ctx: Context, source: str, staged: str) -> int:
    """Forget the rejections of the rows of ``staged`` (staged with ``was_rejected``) that
    are accepted now: a fixed row is copied, and no longer reported."""
    return clear_resolved(
        ctx,
        source,
        f"SELECT n.legacy_id FROM {staged} n WHERE n.reject_reason IS NULL AND n.was_rejected = 1",
    )


def clear_resolved(ctx: Context, source: str, copied_ids_sql: str, **values: str) -> int:
    """Forget rejections of rows that have been copied since (the row, or its owner, was
    fixed). ``values``: further parameters of ``copied_ids_sql``."""
    issue = ctx.table_of("legacy.RowIssue")
    params = ctx.params(issue_source=source, issue_kind=REJECTED, **values)
    return ctx.execute(
        f"DELETE FROM {issue} WHERE source = %(issue_source)s AND kind = %(issue_kind)s"
        f" AND legacy_id IN ({copied_ids_sql})",
        params,
    )


def count_issues(ctx: Context, source: str, kind: str, reasons: tuple[str, ...] = ()) -> int:
    """Rows of ``source`` with an issue of ``kind`` (of one of ``reasons``, if given)."""
    issue = ctx.table_of("legacy.RowIssue")
    params = ctx.params(issue_source=source, issue_kind=kind)
    of_reasons = ""
    if reasons:
        of_reasons = f" AND reason IN ({', '.join(params.add(r) for r in reasons)})"
    counted = ctx.rows(
        f"SELECT COUNT(DISTINCT legacy_id) FROM {issue}"
        f" WHERE source = %(issue_source)s AND kind = %(issue_kind)s{of_reasons}",
        params,
    )
    return int(counted[0][0])
