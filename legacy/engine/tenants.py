"""Tenants of the multi-tenant auth service: ``clients``, and ``users.client_id`` as
memberships. Runs after the auth service's users, whose people it needs."""

from __future__ import annotations

from legacy.catalog import MEMBERSHIP_HOLD, MEMBERSHIPS, TENANT_MISSING, TENANT_REJECTED
from legacy.engine.context import Context
from legacy.engine.issues import (
    REJECTED,
    WARNING,
    count_issues,
    record_issues,
    rejection_on_record,
)
from legacy.engine.people import role_key
from legacy.engine.report import Verification
from legacy.engine.reverse import delete_copied, forget
from legacy.engine.sql import Params
from legacy.engine.trust import (
    forget_holds,
    held_reason,
    holds_supported,
    in_force,
    record_holds,
)
from legacy.engine.verify import account_for, report_held, report_rows

NAME = "tenants"
DESCRIPTION = "the auth service's clients, and users.client_id as memberships"
CLIENTS, USERS = "clients", "users"


def _new_clients(ctx: Context, params: Params) -> str:
    d = ctx.dialect
    clients = ctx.legacy(CLIENTS)
    assert clients is not None
    tenant = ctx.table_of("accounts.Tenant")
    slug = d.trim_blanks("s.slug", params)
    room = {f: ctx.max_length("accounts.Tenant", f) for f in ("name", "slug")}
    return (
        f"SELECT {d.as_text('s.id')} AS legacy_id, s.name AS name, {slug} AS slug,"
        f" COALESCE({clients.col('s', 'is_active', 'boolean')}, FALSE) AS is_active,"
        f" COALESCE({clients.col('s', 'created_at', 'timestamp')}, %(now)s) AS created_at,"
        f" CASE WHEN s.slug IS NULL OR {slug} = '' THEN {params.add('slug_empty')}"
        # Drift beyond the legacy schema (a NULL name, wider columns): a tenant authcore
        # cannot hold is rejected by name, where the insert would stop the source.
        f" WHEN s.name IS NULL OR {d.trim_blanks('s.name', params)} = ''"
        f" THEN {params.add('name_empty')}"
        f" WHEN LENGTH(s.name) > {room['name']} OR LENGTH({slug}) > {room['slug']}"
        f" THEN {params.add('value_too_long')}"
        f" WHEN EXISTS (SELECT 1 FROM {tenant} t WHERE LOWER(t.slug) = LOWER({slug}))"
        f" OR ROW_NUMBER() OVER (PARTITION BY LOWER({slug}) ORDER BY s.id) > 1"
        f" THEN {params.add('slug_duplicate')} END AS reject_reason"
        f" FROM {clients.sql} s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {tenant} t WHERE t.legacy_source = %(source)s"
        f" AND t.legacy_id = {d.as_text('s.id')})"
    )


def _memberships_from(ctx: Context, params: Params, join: str = "") -> str:
    """FROM-clause: copied ``users`` rows that name a tenant (alias s, origin o, + join)."""
    d = ctx.dialect
    users = ctx.legacy(USERS)
    assert users is not None
    origin = ctx.table_of("accounts.UserOrigin")
    return (
        f" FROM {users.sql} s"
        f" JOIN {origin} o ON o.source = %(users)s AND o.legacy_id = {d.as_text('s.id')}"
        f"{join} WHERE s.client_id IS NOT NULL"
    )


def copy(ctx: Context) -> None:
    clients = ctx.legacy(CLIENTS)
    if clients is None:
        ctx.report.notes.append("tenants: no clients table (not a multi-tenant deployment)")
        return
    tenant = ctx.table_of("accounts.Tenant")
    params = ctx.params(source=CLIENTS)
    new = _new_clients(ctx, params)
    record_issues(
        ctx,
        CLIENTS,
        REJECTED,
        f"SELECT n.legacy_id, n.reject_reason AS reason, n.slug AS detail"
        f" FROM ({new}) n WHERE n.reject_reason IS NOT NULL",
        params,
    )
    result = ctx.report.table(CLIENTS)
    copied = ctx.execute(
        f"INSERT INTO {tenant} (name, slug, is_active, created_at, legacy_source, legacy_id)"
        f" SELECT n.name, n.slug, n.is_active, n.created_at, %(source)s, n.legacy_id"
        f" FROM ({new}) n WHERE n.reject_reason IS NULL",
        params,
    )
    result.copied += copied
    ctx.planner.grew("accounts.Tenant", copied)
    result.rows = ctx.legacy_rows(clients)
    result.rejected = count_issues(ctx, CLIENTS, REJECTED)
    result.already_done = max(result.rows - result.rejected - result.copied, 0)
    users = ctx.legacy(USERS)
    if users is not None and users.has("client_id"):
        # One unit: it joins the whole legacy users table, by hashes (Context.unit).
        with ctx.unit():
            _copy_memberships(ctx)


def _copy_memberships(ctx: Context) -> None:
    """One membership per person and tenant, with the role of the first row that names it."""
    d = ctx.dialect
    tenant, membership = ctx.table_of("accounts.Tenant"), ctx.table_of("accounts.Membership")
    params = ctx.params(source=USERS, users=USERS, clients=CLIENTS)
    role = role_key(ctx, "s.role", params)
    member = params.add("member")
    tenant_of = f" AND t.legacy_source = %(clients)s AND t.legacy_id = {d.as_text('s.client_id')}"
    from_ = _memberships_from(ctx, params)
    client_rejected = rejection_on_record(ctx, d.as_text("s.client_id"), params, "%(clients)s")
    record_issues(
        ctx,
        USERS,
        WARNING,
        f"SELECT {d.as_text('s.id')} AS legacy_id,"
        # A client row that exists but was not copied (say, slug_duplicate) is named so.
        f" CASE WHEN {client_rejected} THEN {params.add(TENANT_REJECTED)}"
        f" ELSE {params.add(TENANT_MISSING)} END AS reason,"
        f" 'client ' || {d.as_text('s.client_id')} AS detail{from_}"
        f" AND NOT EXISTS (SELECT 1 FROM {tenant} t WHERE 1 = 1{tenant_of})",
        params,
    )
    # A merged row that proves nothing grants no membership (legacy/engine/trust.py).
    hold = held_reason(ctx, "o", "%(users)s", d.as_text("s.id"), params)
    tenants_of_rows = _memberships_from(ctx, params, join=f" JOIN {tenant} t ON 1 = 1{tenant_of}")
    if holds_supported(ctx):
        record_holds(
            ctx,
            MEMBERSHIP_HOLD,
            USERS,
            f"SELECT o.user_id, {d.as_text('s.id')} AS legacy_id, %(users)s AS owner_source,"
            f" {d.as_text('s.id')} AS owner_legacy_id, {hold} AS reason,"
            f" 'tenant ' || t.slug || ' as ' || COALESCE(NULLIF({role}, ''), {member})"
            f" || ', from a merged row whose address was never proven' AS detail"
            f"{tenants_of_rows} AND {hold} IS NOT NULL",
            params,
        )
    result = ctx.report.table(MEMBERSHIPS)
    copied = ctx.execute(
        f"INSERT INTO {membership} (user_id, tenant_id, role, legacy_source, legacy_id)"
        f" SELECT m.user_id, m.tenant_id, m.role, %(source)s, m.legacy_id FROM ("
        f"SELECT o.user_id, t.id AS tenant_id, COALESCE(NULLIF({role}, ''), {member}) AS role,"
        f" {d.as_text('s.id')} AS legacy_id,"
        f" ROW_NUMBER() OVER (PARTITION BY o.user_id, t.id ORDER BY s.id) AS position"
        f"{tenants_of_rows} AND {hold} IS NULL"
        # A row whose membership was copied is left out before ranking (a re-run then
        # ranks nothing): its person and tenant have a membership, so any other row of
        # theirs that ranks first instead is skipped by the unique constraint all the same.
        f" AND NOT EXISTS (SELECT 1 FROM {membership} c WHERE c.legacy_source = %(source)s"
        f" AND c.legacy_id = {d.as_text('s.id')})"
        # The (user, tenant) unique index skips a membership that exists (copied, or added
        # in authcore) by a probe per row, instead of an anti-join over the whole table.
        f") m WHERE m.position = 1 ON CONFLICT (user_id, tenant_id) DO NOTHING",
        params,
    )
    result.copied += copied
    ctx.planner.grew("accounts.Membership", copied)
    result.rows = ctx.rows(f"SELECT COUNT(*){from_}", params)[0][0]
    # Only the memberships' own warnings (the users' are on the users line); a row of a
    # person and tenant that already have a membership has nothing left to do.
    result.warnings = count_issues(ctx, USERS, WARNING, (TENANT_MISSING, TENANT_REJECTED))
    # Less the rows held, which the run's end counts (trust.note_held).
    result.already_done = max(result.rows - result.copied - result.warnings, 0)


def verify(ctx: Context, v: Verification) -> None:
    clients = ctx.legacy(CLIENTS)
    if clients is None:
        return
    d = ctx.dialect
    tenant, membership = ctx.table_of("accounts.Tenant"), ctx.table_of("accounts.Membership")
    params = ctx.params(source=CLIENTS, users=USERS, clients=CLIENTS)
    copied = f"SELECT t.legacy_id FROM {tenant} t WHERE t.legacy_source = %(source)s"
    account_for(ctx, v, clients, copied, params)
    for problem, (select, _fix) in _narrowings(ctx, params).items():
        report_rows(ctx, v, CLIENTS, problem, select, params)
    report_rows(
        ctx,
        v,
        CLIENTS,
        "slug_differs",
        f"SELECT t.legacy_id, t.slug FROM {clients.sql} s JOIN {tenant} t"
        f" ON t.legacy_source = %(source)s AND t.legacy_id = {d.as_text('s.id')}"
        f" WHERE t.slug <> {d.trim_blanks('s.slug', params)}",
        params,
    )
    users = ctx.legacy(USERS)
    if users is None or not users.has("client_id"):
        return
    report_rows(
        ctx,
        v,
        USERS,
        "membership_missing",
        f"SELECT {d.as_text('s.id')}, {d.as_text('s.client_id')}{_memberships_from(ctx, params)}"
        f" AND EXISTS (SELECT 1 FROM {tenant} t WHERE t.legacy_source = %(clients)s"
        f" AND t.legacy_id = {d.as_text('s.client_id')} AND NOT EXISTS (SELECT 1 FROM"
        f" {membership} m WHERE m.user_id = o.user_id AND m.tenant_id = t.id))"
        f" AND NOT {in_force(ctx, '%(users)s', d.as_text('s.id'), params)}",
        params,
    )
    if holds_supported(ctx):
        report_held(ctx, v, USERS, params)
    report_rows(ctx, v, USERS, "role_changed_in_legacy", _role_drift(ctx, params)[0], params)


def _narrowings(ctx: Context, params: Params) -> dict[str, tuple[str, str]]:
    """Problem -> (SELECT of legacy_id and detail, the fix --sync applies), for copied
    tenants and memberships that give more access than the old service now does."""
    d = ctx.dialect
    clients, users = ctx.legacy(CLIENTS), ctx.legacy(USERS)
    assert clients is not None
    tenant, membership = ctx.table_of("accounts.Tenant"), ctx.table_of("accounts.Membership")
    origin = ctx.table_of("accounts.UserOrigin")
    active = f"COALESCE({clients.col('s', 'is_active', 'boolean')}, FALSE)"
    narrowings = {
        "active_but_inactive_in_legacy": (
            f"SELECT t.legacy_id, t.slug FROM {clients.sql} s JOIN {tenant} t"
            f" ON t.legacy_source = %(clients)s AND t.legacy_id = {d.as_text('s.id')}"
            f" WHERE t.is_active AND NOT {active}",
            f"UPDATE {tenant} SET is_active = FALSE WHERE legacy_source = %(clients)s"
            f" AND is_active AND legacy_id IN (SELECT {d.as_text('s.id')} FROM {clients.sql} s"
            f" WHERE NOT {active})",
        ),
    }
    if users is not None and users.has("client_id"):
        backed = (
            f"EXISTS (SELECT 1 FROM {users.sql} s JOIN {origin} o ON o.source = %(users)s"
            f" AND o.legacy_id = {d.as_text('s.id')} WHERE o.user_id = m.user_id"
            f" AND {d.as_text('s.client_id')} = t.legacy_id)"
        )
        unbacked = (
            f" FROM {membership} m JOIN {tenant} t ON t.id = m.tenant_id"
            f" WHERE m.legacy_source = %(users)s AND t.legacy_source = %(clients)s"
            f" AND NOT {backed}"
        )
        narrowings["membership_without_legacy"] = (
            f"SELECT m.legacy_id, t.slug{unbacked}",
            f"DELETE FROM {membership} WHERE id IN (SELECT m.id{unbacked})",
        )
    return narrowings


def _role_drift(ctx: Context, params: Params) -> tuple[str, str]:
    """(SELECT of copied memberships whose legacy role changed, the UPDATE applying it)."""
    d = ctx.dialect
    users = ctx.legacy(USERS)
    assert users is not None
    membership = ctx.table_of("accounts.Membership")
    legacy_role = f"COALESCE(NULLIF({role_key(ctx, 's.role', params)}, ''), {params.add('member')})"
    of_row = f"{users.sql} s WHERE {d.as_text('s.id')} = {membership}.legacy_id"
    return (
        f"SELECT m.legacy_id, m.role FROM {membership} m JOIN {users.sql} s"
        f" ON {d.as_text('s.id')} = m.legacy_id WHERE m.legacy_source = %(users)s"
        f" AND m.role <> {legacy_role}",
        f"UPDATE {membership} SET role = (SELECT {legacy_role} FROM {of_row})"
        f" WHERE legacy_source = %(users)s AND EXISTS (SELECT 1 FROM {of_row}"
        f" AND {membership}.role <> {legacy_role})",
    )


def sync(ctx: Context) -> None:
    """Apply what changed in ``clients`` and ``users.client_id`` since the copy: tenants
    deactivated, memberships gone, roles changed (the old service decides until the
    cut-over)."""
    if ctx.legacy(CLIENTS) is None:
        return
    params = ctx.params(users=USERS, clients=CLIENTS)
    result = ctx.report.table(MEMBERSHIPS)
    with ctx.unit():
        for _select, fix in _narrowings(ctx, params).values():
            result.synced += ctx.execute(fix, params)
        users = ctx.legacy(USERS)
        if users is not None and users.has("client_id"):
            result.synced += ctx.execute(_role_drift(ctx, params)[1], params)


def reverse(ctx: Context) -> None:
    forget_holds(ctx, USERS)
    forget(ctx, "legacy.RowIssue", source=CLIENTS)
    forget(ctx, "legacy.RowIssue", source=USERS, reason=TENANT_MISSING)
    delete_copied(ctx, "accounts.Membership", USERS)
    delete_copied(ctx, "accounts.Tenant", CLIENTS)
