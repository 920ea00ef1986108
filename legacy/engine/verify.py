"""--verify: every legacy row is copied, merged or reported, and what was copied matches.

Each check is one query that names the offending rows; nothing is loaded whole. A check
flags only what matters for a safe cut-over: a row not accounted for, a value that
differs, or access that is wider in authcore than it was in the old table.
"""

from __future__ import annotations

from legacy.engine.context import Context
from legacy.engine.issues import REJECTED
from legacy.engine.people import NAMES, PersonColumns, fitted, password_as_copied
from legacy.engine.report import Problem, Verification
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params
from legacy.engine.trust import held_rows


def report_rows(
    ctx: Context, v: Verification, source: str, problem: str, sql: str, params: Params
) -> None:
    """Stream the rows of ``sql`` (legacy_id, detail) into ``v`` as problems."""
    for legacy_id, detail in ctx.stream(sql, params):
        v.add(
            Problem(source=source, legacy_id=str(legacy_id), problem=problem, detail=detail or "")
        )


def report_held(ctx: Context, v: Verification, source: str, params: Params) -> None:
    """Stream the rows of table ``source`` held for review into ``v`` (accounted for)."""
    described = "h.legacy_id, h.kind || ' ' || h.reason || ': ' || h.detail"
    sql = held_rows(ctx, source, params, described)
    for legacy_id, detail in ctx.stream(sql, params):
        v.add_held(Problem(source=source, legacy_id=str(legacy_id), problem="held", detail=detail))


def unaccounted(ctx: Context, table: LegacyTable, copied_ids: str, params: Params) -> str:
    """Rows of ``table`` neither copied (``copied_ids``) nor rejected with a reason.

    NOT EXISTS, never NOT IN: once the copied ids outgrow work_mem, PostgreSQL runs a
    NOT IN subquery once per legacy row (docs/performance.md).
    """
    d = ctx.dialect
    issue = ctx.table_of("legacy.RowIssue")
    params.values["rejected"] = REJECTED
    return (
        f"SELECT {d.as_text('s.id')}, '' FROM {table.sql} s"
        f" WHERE NOT EXISTS (SELECT 1 FROM ({copied_ids}) c"
        f" WHERE c.legacy_id = {d.as_text('s.id')})"
        f" AND NOT EXISTS (SELECT 1 FROM {issue} i WHERE i.source = %(source)s"
        f" AND i.legacy_id = {d.as_text('s.id')} AND i.kind = %(rejected)s)"
    )


def vanished(ctx: Context, table: LegacyTable, copied_ids: str) -> str:
    """Copied rows whose legacy row has since been deleted."""
    d = ctx.dialect
    return (
        f"SELECT c.legacy_id, 'copied, but no longer in the legacy table' FROM ({copied_ids}) c"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table.sql} s WHERE {d.as_text('s.id')} = c.legacy_id)"
    )


def account_for(
    ctx: Context,
    v: Verification,
    table: LegacyTable,
    copied: str,
    params: Params,
    accounted: str | None = None,
) -> None:
    """--verify's first question of every legacy table: is each row copied (``copied``:
    the legacy ids of what it became) or otherwise accounted for (``accounted``, a wider
    set; rejected rows always count), and is each copied row still in the legacy table?"""
    v.checked[table.key] = ctx.legacy_rows(table)
    not_copied = unaccounted(ctx, table, accounted or copied, params)
    report_rows(ctx, v, table.key, "not_copied", not_copied, params)
    report_rows(ctx, v, table.key, "legacy_row_missing", vanished(ctx, table, copied), params)


def verify_people(ctx: Context, table: LegacyTable, cols: PersonColumns, v: Verification) -> None:
    """Check one legacy user table against the users and origins it became."""
    d = ctx.dialect
    user, origin = ctx.table_of("accounts.User"), ctx.table_of("accounts.UserOrigin")
    params = ctx.params(source=table.key)
    copied = f"SELECT o.legacy_id FROM {origin} o WHERE o.source = %(source)s"
    account_for(ctx, v, table, copied, params)

    joined = (
        f" FROM {table.sql} s"
        f" JOIN {origin} o ON o.source = %(source)s AND o.legacy_id = {d.as_text('s.id')}"
        f" JOIN {user} u ON u.id = o.user_id"
    )
    winner = " AND u.legacy_source = %(source)s AND u.legacy_id = o.legacy_id"
    email_key = d.email_key(table.col("s", "email"), params)
    checks = [
        ("email_differs", f"LOWER(u.email) <> {email_key}", ""),
        (
            "active_but_inactive_in_legacy",
            f"u.is_active AND NOT COALESCE({cols.is_active}, FALSE)",
            "",
        ),
        # Changed in authcore without set_password (tampered): what was copied is gone.
        (
            "password_differs",
            f"NOT {password_as_copied(ctx, params)} AND (u.password_changed_at IS NULL"
            " OR u.password_changed_at < o.copied_at)",
            winner,
        ),
        # Changed in the old service since the copy: drift, applied by --sync.
        (
            "password_changed_in_legacy",
            f"o.legacy_password <> {d.django_password(cols.password, params)}",
            winner,
        ),
        (
            "superuser_without_legacy_right",
            f"u.is_superuser AND NOT COALESCE({cols.is_superuser}, FALSE)",
            winner,
        ),
    ]
    if cols.verified_carries_over:
        checks.append(
            ("verified_lost", f"u.is_verified = FALSE AND COALESCE({cols.is_verified}, FALSE)", "")
        )
    for field in NAMES:
        if getattr(cols, field) != "NULL":
            checks.append(
                (f"{field}_differs", d.distinct(f"u.{field}", fitted(ctx, cols, field)), winner)
            )
    for problem, condition, scope in checks:
        sql = f"SELECT o.legacy_id, u.email{joined} WHERE ({condition}){scope}"
        report_rows(ctx, v, table.key, problem, sql, params)
