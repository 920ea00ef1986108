"""Which merged rows may give a user access, and what is held back from those that may not.

One address is one person, but an address proves who someone is only if the old service
confirmed it: a service that never did let anyone sign up under anyone's address. So a
person's winning row is the account, copied whole, and any other row of theirs (a merged
row) gives the user nothing that lets anyone in or shows them anything unless it is
*proven*: it carries its own proof (``fu_users.is_verified``) or its source is listed in
``LEGACY_VERIFIED_SOURCES``. What such a row brings is *held*: its password is never
taken; its keys and sessions are copied but do not authenticate; its profile, tenant
memberships and NATS credentials are not attached. Each held row is recorded as a
``legacy.Hold`` until a person releases or dismisses it in the admin's review queue, or
its source is declared verified (the next run releases what nobody dismissed).
"""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.conf import settings

from legacy.catalog import (
    BY_KEY,
    MEMBERSHIP_HOLD,
    MEMBERSHIPS,
    PEOPLE_SOURCES,
    RELEASED,
    UNPROVEN_MERGE,
)
from legacy.catalog import DISMISSED as DISMISSED  # re-exported for the review queue
from legacy.engine.context import Context
from legacy.engine.sql import Params

# legacy.Hold's table, by name: the reverse may run with models that predate it.
HOLD_TABLE = "legacy_hold"
DECLARE_VERIFIED = (
    "list the old services that confirmed addresses in LEGACY_VERIFIED_SOURCES "
    f"({', '.join(sorted(set(PEOPLE_SOURCES.values())))})"
)
HOW_TO_VERIFY = f"{DECLARE_VERIFIED}, or decide each held item in the admin's review queue"


def unknown_verified_sources(names: list[str]) -> list[str]:
    """The names in ``names`` that are not sources of people rows."""
    return sorted({n.strip() for n in names if n.strip()} - set(PEOPLE_SOURCES.values()))


def verified_tables() -> list[str]:
    """The people tables whose every row counts as proven, from the setting.

    An unknown name proves nothing (and system check legacy.E003 reports it).
    """
    named = {name.strip() for name in getattr(settings, "LEGACY_VERIFIED_SOURCES", [])}
    return sorted(table for table, source in PEOPLE_SOURCES.items() if source in named)


def registry_knows_holds(apps: Apps) -> bool:
    """Whether models ``apps`` (a migration's historical registry) have holds."""
    try:
        apps.get_model("legacy", "Hold")
        origin = apps.get_model("accounts", "UserOrigin")
    except LookupError:
        return False
    return "proven" in {f.name for f in origin._meta.get_fields()}


def holds_supported(ctx: Context) -> bool:
    """Whether this run's registry knows holds (a copy migration older than them does not)."""
    return registry_knows_holds(ctx.apps)


def origin_grants(ctx: Context, origin: str, params: Params) -> str:
    """SQL: the person row of origin ``origin`` may give its user access (see the module)."""
    tables = verified_tables()
    if not tables:
        return f"{origin}.proven"
    listed = ", ".join(params.add(table) for table in tables)
    return f"({origin}.proven OR {origin}.source IN ({listed}))"


def released(ctx: Context, source: str, legacy_id: str, params: Params) -> str:
    """SQL: the row ``legacy_id`` of table ``source`` (a placeholder) was held and released."""
    hold = ctx.table_of("legacy.Hold")
    return (
        f"EXISTS (SELECT 1 FROM {hold} h WHERE h.source = {source}"
        f" AND h.legacy_id = {legacy_id} AND h.decision = {params.add(RELEASED)})"
    )


def in_force(ctx: Context, source: str, legacy_id: str, params: Params) -> str:
    """SQL: the row ``legacy_id`` of table ``source`` (a placeholder) is held now."""
    if not holds_supported(ctx):
        return "FALSE"
    hold = ctx.table_of("legacy.Hold")
    return (
        f"EXISTS (SELECT 1 FROM {hold} h WHERE h.source = {source}"
        f" AND h.legacy_id = {legacy_id} AND h.decision <> {params.add(RELEASED)})"
    )


def held_reason(ctx: Context, origin: str, source: str, legacy_id: str, params: Params) -> str:
    """SQL: why the row ``legacy_id`` of ``source``, owned by the person row of origin
    ``origin``, is held (or NULL: it is not). Without holds in the registry, NULL."""
    if not holds_supported(ctx):
        return "NULL"
    return (
        f"CASE WHEN {origin}.user_id IS NOT NULL AND NOT {origin_grants(ctx, origin, params)}"
        f" AND NOT {released(ctx, source, legacy_id, params)}"
        f" THEN {params.add(UNPROVEN_MERGE)} END"
    )


def record_holds(ctx: Context, kind: str, source: str, rows_sql: str, params: Params) -> int:
    """Record each row of ``rows_sql`` (user_id, legacy_id, owner_source, owner_legacy_id,
    reason, detail) as held; a row already on record (held, released or dismissed) is
    left as it is, so a decision is never undone by a run."""
    params.values.update(hold_kind=kind, hold_source=source)
    return ctx.insert_new(
        "legacy.Hold",
        "user_id, kind, source, legacy_id, owner_source, owner_legacy_id, reason, detail,"
        " held_at, run_id, decision",
        "r.user_id, %(hold_kind)s, %(hold_source)s, r.legacy_id, r.owner_source,"
        " r.owner_legacy_id, r.reason, COALESCE(r.detail, ''), %(now)s, %(run)s, ''",
        rows_sql,
        "source, legacy_id",
        params,
    )


def release_proven(ctx: Context) -> int:
    """Release the undecided holds whose person row is proven now (its source was declared
    verified since): the run then copies them as if they had never been held."""
    if not holds_supported(ctx):
        return 0
    hold, origin = ctx.table_of("legacy.Hold"), ctx.table_of("accounts.UserOrigin")
    params = ctx.params()
    return ctx.execute(
        f"UPDATE {hold} SET decision = {params.add(RELEASED)}, decided_at = %(now)s"
        f" WHERE decision = '' AND EXISTS (SELECT 1 FROM {origin} o"
        f" WHERE o.source = {hold}.owner_source AND o.legacy_id = {hold}.owner_legacy_id"
        f" AND {origin_grants(ctx, 'o', params)})",
        params,
    )


def unhold_released(ctx: Context, label: str, source: str) -> int:
    """Keys or sessions (model ``label``) of table ``source`` whose hold was released
    authenticate again: exactly what an unheld copy made (a revoked one stays revoked)."""
    if not holds_supported(ctx):
        return 0
    target = ctx.table_of(label)
    params = ctx.params(source=source)
    return ctx.execute(
        f"UPDATE {target} SET held = FALSE WHERE held AND legacy_source = %(source)s"
        f" AND {released(ctx, '%(source)s', f'{target}.legacy_id', params)}",
        params,
    )


def held_rows(ctx: Context, source: str, params: Params, columns: str = "h.legacy_id") -> str:
    """SQL: ``columns`` of the holds ``h`` of table ``source`` in force (not released)."""
    hold = ctx.table_of("legacy.Hold")
    params.values["held_source"] = source
    return (
        f"SELECT {columns} FROM {hold} h WHERE h.source = %(held_source)s"
        f" AND h.decision <> {params.add(RELEASED)}"
    )


def forget_holds(ctx: Context, *sources: str) -> None:
    """The reverse: remove the holds of rows of ``sources``, and the decisions on them."""
    if _hold_table_exists(ctx):
        params = ctx.params()
        listed = ", ".join(params.add(source) for source in sources)
        ctx.execute(
            f"DELETE FROM {ctx.dialect.quote(HOLD_TABLE)} WHERE source IN ({listed})", params
        )


def let_go_of_users(ctx: Context, people_table: str) -> None:
    """Before the reverse deletes the users made from ``people_table``: remove their
    holds and forget them as deciders.

    In SQL, like ``forget_holds``: a copy migration is reversed with the models of its
    time, which may predate holds, and the rows would be left pointing at deleted users.
    """
    if not _hold_table_exists(ctx):
        return
    d = ctx.dialect
    params = ctx.params(people=people_table)
    users = f"SELECT u.id FROM {ctx.table_of('accounts.User')} u WHERE u.legacy_source = %(people)s"
    ctx.execute(f"DELETE FROM {d.quote(HOLD_TABLE)} WHERE user_id IN ({users})", params)
    for table in (HOLD_TABLE, "legacy_conflict", "legacy_rowissue"):
        ctx.execute(
            f"UPDATE {d.quote(table)} SET decided_by_id = NULL WHERE decided_by_id IN ({users})",
            params,
        )


def _hold_table_exists(ctx: Context) -> bool:
    with ctx.connection.cursor() as cursor:
        return HOLD_TABLE in ctx.connection.introspection.table_names(cursor)


def held_merged_rows(ctx: Context) -> dict[str, int]:
    """Merged people rows with items held now, per source (auth_service, ...)."""
    counts: dict[str, int] = {}
    for table, count in _holds_in_force(ctx, "owner_source, COUNT(DISTINCT owner_legacy_id)"):
        source = PEOPLE_SOURCES.get(table, table)
        counts[source] = counts.get(source, 0) + count
    return counts


def _holds_in_force(ctx: Context, columns: str) -> list[tuple[Any, ...]]:
    """``columns`` of the holds in force (not released), grouped by every column but the
    last (a count); nothing where the registry predates holds."""
    if not holds_supported(ctx):
        return []
    hold = ctx.table_of("legacy.Hold")
    params = ctx.params()
    groups = columns.rsplit(",", 1)[0]
    return ctx.rows(
        f"SELECT {columns} FROM {hold} WHERE decision <> {params.add(RELEASED)} GROUP BY {groups}",
        params,
    )


def note_held(ctx: Context) -> None:
    """Count the held rows of each table in the report (one pass over the holds, once a
    run), and say how many merged rows are held per source, and what to do."""
    counts = held_merged_rows(ctx)
    ctx.report.held_merged_rows = counts
    for key, held in _held_per_table(ctx).items():
        if key in ctx.report.tables:
            result = ctx.report.table(key)
            result.held = held
            # Held keys and sessions are copied (counted in copied); the rest are not.
            spec = BY_KEY.get(key)
            if not (spec is not None and copied_when_held(ctx, spec.becomes)):
                result.already_done = max(result.already_done - held, 0)
    if counts:
        ctx.report.notes.append(held_note(counts))


def held_note(counts: dict[str, int]) -> str:
    """What a report says of the merged rows held per source, and what to do about them."""
    each = ", ".join(f"{source} {count}" for source, count in counts.items())
    return (
        f"held for review: the items of merged rows whose address was never proven"
        f" ({each}); they grant nothing until released. To let them through, {HOW_TO_VERIFY}"
    )


def copied_when_held(ctx: Context, label: str) -> bool:
    """Whether a held row of model ``label`` is copied, marked ``held`` (keys, sessions: they
    belong to the user but never authenticate), or not attached at all."""
    fields = {f.name for f in ctx.model(label)._meta.get_fields()}
    return holds_supported(ctx) and "held" in fields


def _held_per_table(ctx: Context) -> dict[str, int]:
    """Rows held now per report table (memberships are the users table's client_id)."""
    counts: dict[str, int] = {}
    for source, kind, count in _holds_in_force(ctx, "source, kind, COUNT(*)"):
        key = MEMBERSHIPS if kind == MEMBERSHIP_HOLD else source
        counts[key] = counts.get(key, 0) + count
    return counts
