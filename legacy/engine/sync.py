"""--sync: catch up with the old services before the cut-over.

A legacy row changed after it was copied is applied to what it became, unless authcore
changed that value too (then the authcore change is kept and a Conflict says so).
Anything that takes access away (a deactivated user, a deleted user row, a revoked,
deactivated or shortened key or session, a key rotated in place) always applies: access
never outlives its removal in the old service. Access the old service gives back is not
given back here automatically (fail closed): it is reported for a person to decide.
"""

from __future__ import annotations

from accounts.models import PASSWORD_REHASHED
from legacy.engine.conflicts import insert_conflicts
from legacy.engine.context import Context
from legacy.engine.owned import OwnedRows, is_sha256_hex, legacy_digest
from legacy.engine.people import PersonColumns, password_as_copied, password_taken_from
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params


def _conflict(ctx: Context, field: str, rule: str, from_where: str, params: Params) -> None:
    """Record a Conflict for each row of ``from_where`` (aliases s, o, u); the run's report
    counts the new ones."""
    conflict = ctx.table_of("legacy.Conflict")
    params.values.update(field=field, rule=rule)
    insert_conflicts(
        ctx,
        f"SELECT u.id, %(field)s, %(source)s, o.legacy_id, NULL, NULL, NULL, NULL,"
        f" %(rule)s, %(now)s, %(run)s{from_where}"
        f" AND NOT EXISTS (SELECT 1 FROM {conflict} c WHERE c.user_id = u.id"
        f" AND c.field = %(field)s AND c.source = %(source)s AND c.legacy_id = o.legacy_id)",
        params,
    )


def sync_people(ctx: Context, table: LegacyTable, cols: PersonColumns) -> None:
    """Apply the changes of ``table`` since the copy to users (see the module docstring)."""
    d = ctx.dialect
    result = ctx.report.table(table.key)
    user, origin = ctx.table_of("accounts.User"), ctx.table_of("accounts.UserOrigin")
    params = ctx.params(source=table.key)
    legacy_password = d.django_password(cols.password, params)
    legacy_active = f"COALESCE({cols.is_active}, FALSE)"
    joined = (
        f" FROM {table.sql} s"
        f" JOIN {origin} o ON o.source = %(source)s AND o.legacy_id = {d.as_text('s.id')}"
        f" JOIN {user} u ON u.id = o.user_id"
    )
    is_winner = "u.legacy_source = %(source)s AND u.legacy_id = o.legacy_id"
    winner = f" AND {is_winner}"
    # The row a user's password came from: its winning row, or the merged row whose
    # password it took because the winning row had none.
    gave_password = f" AND (({is_winner}) OR ({password_taken_from(ctx, params)}))"
    password_changed = f" WHERE o.legacy_password <> {legacy_password}{gave_password}"
    # Django's re-hash at login is the same password: not a change made in authcore.
    unchanged_here = (
        f"({password_as_copied(ctx, params)}"
        f" OR u.password_set_by = {params.add(PASSWORD_REHASHED)})"
    )
    local_unchanged = f" AND {unchanged_here}"
    with ctx.unit():
        _conflict(
            ctx,
            "password",
            "changed in the old service and in authcore since the copy: the authcore"
            " change is kept",
            f"{joined}{password_changed} AND NOT {unchanged_here}",
            params,
        )
        result.synced += ctx.execute(
            # As the copy left it again: a later re-hash at login is again no change.
            f"UPDATE {user} SET password_set_by = NULL,"
            f" password = (SELECT {legacy_password}{joined}"
            f" WHERE u.id = {user}.id{gave_password}"
            # Both changed (the winning row and the row taken from, of one table): the
            # winning row's.
            f" ORDER BY CASE WHEN {is_winner} THEN 0 ELSE 1 END LIMIT 1)"
            f" WHERE id IN (SELECT u.id{joined}{password_changed}{local_unchanged})",
            params,
        )
        result.synced += ctx.execute(
            f"UPDATE {user} SET is_active = FALSE WHERE is_active = TRUE AND id IN ("
            f"SELECT u.id{joined} WHERE {legacy_active} = FALSE)",
            params,
        )
        if table.has("is_superuser") and cols.is_superuser == table.col(
            "s", "is_superuser", "boolean"
        ):  # a table that grants the right can take it away
            # Rights come only from the winning row: taken away there, taken away here.
            result.synced += ctx.execute(
                f"UPDATE {user} SET is_superuser = FALSE WHERE is_superuser = TRUE AND id IN ("
                f"SELECT u.id{joined} WHERE NOT COALESCE({cols.is_superuser}, FALSE){winner})",
                params,
            )
        _conflict(
            ctx,
            "is_active",
            "reactivated in the old service: left inactive here (fail closed);"
            " reactivate by hand if that is right",
            f"{joined} WHERE {legacy_active} = TRUE AND o.legacy_active = FALSE"
            " AND u.is_active = FALSE",
            params,
        )
        # A user row deleted in the old service takes its person's access with it.
        result.synced += ctx.execute(
            f"UPDATE {user} SET is_active = FALSE WHERE is_active = TRUE AND id IN ("
            f"SELECT o.user_id FROM {origin} o WHERE o.source = %(source)s"
            f" AND NOT EXISTS (SELECT 1 FROM {table.sql} s"
            f" WHERE {d.as_text('s.id')} = o.legacy_id))",
            params,
        )
        # What the legacy rows say now is what later runs compare against.
        ctx.execute(
            f"UPDATE {origin} SET legacy_password = (SELECT {legacy_password}"
            f" FROM {table.sql} s WHERE {d.as_text('s.id')} = {origin}.legacy_id),"
            f" legacy_active = (SELECT {legacy_active}"
            f" FROM {table.sql} s WHERE {d.as_text('s.id')} = {origin}.legacy_id),"
            f" synced_at = %(now)s"
            f" WHERE source = %(source)s AND legacy_id IN (SELECT o.legacy_id{joined}"
            f" WHERE o.legacy_password <> {legacy_password}"
            f" OR o.legacy_active <> {legacy_active})",
            params,
        )


def sync_owned(ctx: Context, table: LegacyTable, spec: OwnedRows) -> None:
    """Narrow copied rows whose legacy row was revoked, deactivated, shortened or deleted."""
    d = ctx.dialect
    result = ctx.report.table(table.key)
    target = ctx.table_of(spec.target)
    params = ctx.params(source=table.key)
    legacy_of_target = f"{table.sql} s WHERE {d.as_text('s.id')} = {target}.legacy_id"
    with ctx.unit():
        for narrowing in spec.never_wider:
            if not narrowing.fix:
                continue  # reported by --verify; nothing to narrow automatically
            sets = ", ".join(
                f"{column} = (SELECT {value} FROM {legacy_of_target})"
                for column, value in narrowing.fix
            )
            result.synced += ctx.execute(
                f"UPDATE {target} SET {sets} WHERE legacy_source = %(source)s"
                f" AND legacy_id IN (SELECT t.legacy_id FROM {table.sql} s"
                f" JOIN {target} t ON t.legacy_source = %(source)s"
                f" AND t.legacy_id = {d.as_text('s.id')} WHERE {narrowing.condition})",
                params,
            )
        if spec.digest is not None:
            result.synced += _follow_rotations(ctx, table, spec, params)
        result.synced += _take_away(
            ctx, spec, f"NOT EXISTS (SELECT 1 FROM {legacy_of_target})", params
        )


def _follow_rotations(ctx: Context, table: LegacyTable, spec: OwnedRows, params: Params) -> int:
    """Rows whose token the old service replaced in place (a new digest on the same row).

    The copy takes the new digest, so the new token works here and the old one no longer
    does. A new digest the copy cannot take (not a sha256 digest, already another row's,
    or given to two rows at once) revokes the copied row instead, like a deleted one: the
    old token never outlives its rotation, and --verify keeps reporting the row as
    digest_differs for a person to decide. Returns the rows changed.
    """
    d = ctx.dialect
    target = ctx.table_of(spec.target)
    assert spec.digest is not None
    column = d.quote(spec.digest[0])
    digest = legacy_digest(ctx, spec, params)
    rotated = (
        f"SELECT t.legacy_id FROM {table.sql} s JOIN {target} t"
        f" ON t.legacy_source = %(source)s AND t.legacy_id = {d.as_text('s.id')}"
        f" WHERE {d.distinct(f't.{column}', digest)}"
    )
    taken = ctx.execute(
        f"UPDATE {target} SET {column} = (SELECT {digest} FROM {table.sql} s"
        f" WHERE {d.as_text('s.id')} = {target}.legacy_id)"
        f" WHERE legacy_source = %(source)s AND legacy_id IN ({rotated}"
        f" AND {is_sha256_hex(ctx, digest, params)}"
        f" AND NOT EXISTS (SELECT 1 FROM {target} x WHERE x.{column} = {digest})"
        f" AND NOT EXISTS (SELECT 1 FROM {table.sql} r WHERE r.id <> s.id"
        f" AND {legacy_digest(ctx, spec, params, alias='r')} = {digest}))",
        params,
    )
    return taken + _take_away(ctx, spec, f"legacy_id IN ({rotated})", params)


def _take_away(ctx: Context, spec: OwnedRows, condition: str, params: Params) -> int:
    """Make the copied rows where ``condition`` unusable as a deleted legacy row makes them
    (``when_deleted``), unless they already are; returns how many."""
    if not spec.when_deleted:
        return 0
    guard = spec.when_deleted[0][0]
    sets = ", ".join(f"{column} = {value}" for column, value in spec.when_deleted)
    return ctx.execute(
        f"UPDATE {ctx.table_of(spec.target)} SET {sets} WHERE legacy_source = %(source)s"
        f" AND {guard} IS NULL AND {condition}",
        params,
    )
