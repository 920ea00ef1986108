"""--verify, --sync and the reverse of the NATS copy."""

from __future__ import annotations

from legacy.engine.context import Context
from legacy.engine.nats.checks import Audit, audit
from legacy.engine.nats.common import (
    ACCOUNTS,
    CREDENTIALS,
    OWNER_SOURCE,
    SESSIONS,
    SUPERSEDED,
    TABLES,
    USER_FIELDS,
    _candidates,
    _copied_value,
    _natscreds_account,
    _takes_legacy,
    session_rows,
)
from legacy.engine.owned import verify_owned
from legacy.engine.report import Verification
from legacy.engine.reverse import delete_copied, forget
from legacy.engine.schema import LegacyTable
from legacy.engine.sync import sync_owned
from legacy.engine.trust import (
    forget_holds,
    held_rows,
    holds_supported,
)
from legacy.engine.verify import account_for, report_held, report_rows


def verify(ctx: Context, v: Verification) -> None:
    """Fail on data that is wrong; list credential flags as notes (they do not fail).

    Wrong data: a row neither copied, superseded nor rejected; a user carrying another row
    than the rule's winner, or values that differ from it; recorded flags that differ from
    a fresh check; sessions on another person or account, or wider than in the old table.
    Flags (a bad key, JWT or signature) describe the legacy data, which was copied as it
    is: they are listed, and drop_legacy_nats_credentials refuses while a credential has one.
    """
    verify_and_audit(ctx, v)


def verify_and_audit(ctx: Context, v: Verification) -> Audit | None:
    """``verify``, returning the fresh check results (None: no NATS tables to check)."""
    accounts = ctx.legacy(ACCOUNTS)
    if accounts is not None:
        _verify_accounts(ctx, accounts, v)
    creds = ctx.legacy(CREDENTIALS)
    if creds is not None:
        _verify_credentials(ctx, creds, v)
    sessions = ctx.legacy(SESSIONS)
    if sessions is not None:
        verify_owned(ctx, sessions, session_rows(ctx, sessions), v)
    if accounts is None and creds is None:
        return None
    checks = audit(ctx, sample_limit=v.sample_limit, v=v)
    note = ctx.report.notes.append
    checked = ", ".join(f"{table} {n}" for table, n in checks.checked.items()) or "no"
    flagged = sum(checks.flagged.values())
    outcome = (
        f"{flagged} flagged. Flagged rows were copied as they are and are marked (admin: NATS"
        " verification); flags do not fail --verify, but drop_legacy_nats_credentials refuses"
        " while any credential is flagged."
        if flagged
        else "all passed."
    )
    note(f"nats: nkeys and JWTs (sub, iss, signature, exp) checked in {checked} rows: {outcome}")
    for key, count in checks.counts.items():
        note(f"nats flag {key}: {count}")
    for line in checks.samples:
        note(f"nats flag {line}")
    return checks


def _verify_accounts(ctx: Context, accounts: LegacyTable, v: Verification) -> None:
    d = ctx.dialect
    target = ctx.table_of("natscreds.NatsAccount")
    params = ctx.params(source=ACCOUNTS)
    copied = f"SELECT t.legacy_id FROM {target} t WHERE t.legacy_source = %(source)s"
    account_for(ctx, v, accounts, copied, params)
    joined = (
        f" FROM {accounts.sql} s JOIN {target} t ON t.legacy_source = %(source)s"
        f" AND t.legacy_id = {d.as_text('s.id')}"
    )
    for column in ("name", "public_key", "jwt", "signing_key_public"):
        condition = d.distinct(f"t.{column}", _copied_value(ctx, accounts, "s", column, params))
        report_rows(
            ctx,
            v,
            ACCOUNTS,
            f"{column}_differs",
            f"SELECT t.legacy_id, ''{joined} WHERE {condition}",
            params,
        )


def _verify_credentials(ctx: Context, creds: LegacyTable, v: Verification) -> None:
    d = ctx.dialect
    user, origin = ctx.table_of("accounts.User"), ctx.table_of("accounts.UserOrigin")
    issue = ctx.table_of("legacy.RowIssue")
    params = ctx.params(source=CREDENTIALS, owner_source=OWNER_SOURCE, superseded=SUPERSEDED)
    carried = (
        f"SELECT u.nats_legacy_id AS legacy_id FROM {user} u WHERE u.nats_legacy_id IS NOT NULL"
    )
    accounted = (
        f"{carried} UNION SELECT i.legacy_id FROM {issue} i"
        f" WHERE i.source = %(source)s AND i.reason = %(superseded)s"
    )
    if holds_supported(ctx):
        accounted += f" UNION {held_rows(ctx, CREDENTIALS, params)}"
        report_held(ctx, v, CREDENTIALS, params)
    account_for(ctx, v, creds, carried, params, accounted)
    owner = d.as_text("s.user_id")
    report_rows(
        ctx,
        v,
        CREDENTIALS,
        "owner_differs",
        f"SELECT u.nats_legacy_id, u.email FROM {creds.sql} s"
        f" JOIN {user} u ON u.nats_legacy_id = {d.as_text('s.id')}"
        f" LEFT JOIN {origin} o ON o.source = %(owner_source)s AND o.legacy_id = {owner}"
        f" WHERE o.user_id IS NULL OR o.user_id <> u.id",
        params,
    )
    report_rows(
        ctx,
        v,
        CREDENTIALS,
        "winner_differs",
        f"SELECT w.legacy_id, u.email || ' carries ' || COALESCE(u.nats_legacy_id, 'none')"
        f" FROM ({_candidates(ctx, creds, params)}) w JOIN {user} u ON u.id = w.user_id"
        f" WHERE w.position = 1"
        f" AND {_takes_legacy('u')}"
        f" AND {d.distinct('u.nats_legacy_id', 'w.legacy_id')}",
        params,
    )
    joined = f" FROM {creds.sql} s JOIN {user} u ON u.nats_legacy_id = {d.as_text('s.id')}"
    fields = (
        ("jwt", "nats_jwt", "text"),
        ("seed_hash", "nats_seed_hash", "text"),
        ("public_key", "nats_public_key", "text"),
        ("account_public_key", "nats_account_public_key", "text"),
        ("expires_at", "nats_expires_at", "timestamp"),
        ("expired_at", "nats_expired_at", "timestamp"),
    )
    for column, user_field, kind in fields:
        legacy_value = _copied_value(ctx, creds, "s", column, params, kind)
        condition = d.distinct(f"u.{user_field}", legacy_value)
        report_rows(
            ctx,
            v,
            CREDENTIALS,
            f"{column}_differs",
            f"SELECT u.nats_legacy_id, u.email{joined} WHERE {condition}",
            params,
        )
    account = d.distinct("u.nats_account_id", _natscreds_account(ctx, creds, "s"))
    report_rows(
        ctx,
        v,
        CREDENTIALS,
        "account_differs",
        f"SELECT u.nats_legacy_id, u.email{joined} WHERE {account}",
        params,
    )


def sync(ctx: Context) -> None:
    """Credentials already follow the old table on every run; sessions closed, shortened
    or deleted there are narrowed here."""
    sessions = ctx.legacy(SESSIONS)
    if sessions is not None:
        sync_owned(ctx, sessions, session_rows(ctx, sessions))


def reverse(ctx: Context) -> None:
    """Clear the NATS fields the copy set, delete the sessions and accounts it created."""
    users = ctx.model("accounts.User")._base_manager.db_manager(ctx.connection.alias)
    users.filter(nats_legacy_id__isnull=False).update(**dict.fromkeys(USER_FIELDS))
    delete_copied(ctx, "natscreds.NatsAuthSession", SESSIONS)
    delete_copied(ctx, "natscreds.NatsAccount", ACCOUNTS)
    forget(ctx, "legacy.RowIssue", source__in=list(TABLES))
    forget_holds(ctx, *TABLES)
