"""What the NATS steps share: the tables' names, and the SQL that reads them."""

from __future__ import annotations

import logging

from legacy.engine.context import Context
from legacy.engine.owned import Narrowing, OwnedRows
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params
from legacy.engine.trust import (
    held_reason,
)

ACCOUNTS, CREDENTIALS, SESSIONS = "nats_account", "nats_user_credential", "nats_auth_session"
NAME = "nats"
DESCRIPTION = (
    "NATS: nats_account, nats_user_credential (onto the user, verified), nats_auth_session"
)
TABLES = (ACCOUNTS, CREDENTIALS, SESSIONS)
OWNER_SOURCE = "users"  # nats_user_credential.user_id and nats_auth_session.user_id
SUPERSEDED = "credential_superseded"
# The user fields this source writes, and the reverse clears.
USER_FIELDS = (
    "nats_jwt",
    "nats_seed_hash",
    "nats_public_key",
    "nats_account",
    "nats_account_public_key",
    "nats_expires_at",
    "nats_expired_at",
    "nats_legacy_id",
    "nats_problems",
)
log = logging.getLogger("legacy.engine.nats")


def _natscreds_account(ctx: Context, creds: LegacyTable, alias: str) -> str:
    """The natscreds account of legacy credential row ``alias``: by account_id, else by key."""
    d = ctx.dialect
    target = ctx.table_of("natscreds.NatsAccount")
    account_id = creds.col(alias, "account_id")
    return (
        f"CASE WHEN {account_id} IS NOT NULL THEN (SELECT a.id FROM {target} a"
        f" WHERE a.legacy_source = '{ACCOUNTS}' AND a.legacy_id = {d.as_text(account_id)})"
        f" ELSE (SELECT a.id FROM {target} a"
        f" WHERE a.public_key = {creds.col(alias, 'account_public_key')}) END"
    )


def _candidates(ctx: Context, creds: LegacyTable, params: Params, user_state: bool = False) -> str:
    """Credential rows whose owner was copied, ranked per person: position 1 wins.

    Uses ``%(owner_source)s``. A row held for review (its owner is a merged row that
    proves nothing, legacy/engine/trust.py) is no candidate. The newest row not retired
    wins, else the newest. Only
    what the ranking and the decisions need: the values (a JWT runs to a kilobyte) are read
    from the legacy row, by ``legacy_pk``, for the few users that move on. Carrying them
    made every re-run sort and stage each credential's JWT again.

    With ``user_state``, each row also carries its user's ``nats_legacy_id``,
    ``nats_expired_at``, ``nats_public_key`` and ``nats_problems`` and its person's winner
    (``winner_id``): the copy's decisions then read the stage alone, and the user table
    is joined once here, not in each of four later statements.
    """
    d = ctx.dialect
    origin = ctx.table_of("accounts.UserOrigin")
    expired = creds.col("c", "expired_at", "timestamp")
    created = creds.col("c", "created_at", "timestamp")
    ranking = (
        f"OVER (PARTITION BY o.user_id ORDER BY"
        f" CASE WHEN {expired} IS NULL THEN 0 ELSE 1 END,"
        f" CASE WHEN {created} IS NULL THEN 1 ELSE 0 END, {created} DESC, c.id DESC)"
    )
    user_cols, user_join = "", ""
    if user_state:
        user = ctx.table_of("accounts.User")
        user_cols = (
            f", FIRST_VALUE({d.as_text('c.id')}) {ranking} AS winner_id,"
            f" u.nats_legacy_id AS nats_legacy_id, u.nats_expired_at AS nats_expired_at,"
            f" u.nats_public_key AS nats_public_key, u.nats_problems AS nats_problems"
        )
        user_join = f" JOIN {user} u ON u.id = o.user_id"
    return (
        f"SELECT c.id AS legacy_pk, {d.as_text('c.id')} AS legacy_id, o.user_id AS user_id,"
        f" {expired} AS expired_at, ROW_NUMBER() {ranking} AS position{user_cols}"
        f" FROM {creds.sql} c"
        f" JOIN {origin} o ON o.source = %(owner_source)s"
        f" AND o.legacy_id = {d.as_text('c.user_id')}{user_join}"
        f" WHERE {_held(ctx, 'o', d.as_text('c.id'), params)} IS NULL"
    )


def _held(ctx: Context, origin: str, legacy_id: str, params: Params) -> str:
    """SQL: why credential ``legacy_id``, of the person row of ``origin``, is held, or NULL."""
    return held_reason(ctx, origin, params.add(CREDENTIALS, "credentials"), legacy_id, params)


def _takes_legacy(state: str) -> str:
    """SQL: the user (its NATS fields read from ``state``, the user table or a copy of them)
    carries its legacy winner: it holds no credential issued in authcore."""
    return f"({state}.nats_legacy_id IS NOT NULL OR {state}.nats_public_key IS NULL)"


def _credential_rows(
    ctx: Context, creds: LegacyTable, with_user: bool = False, only: str | None = None
) -> str:
    """Credential rows (all, or those whose legacy_id is in stage ``only``) with what the
    checks need from their legacy account.

    Columns: legacy_id, owner legacy id, public_key, jwt, account_public_key, expires_at,
    account key, account signing key, account known (1/0), seed_hash [, user id, user
    nats_problems].
    """
    d = ctx.dialect
    accounts = ctx.legacy(ACCOUNTS)
    key = creds.col("c", "account_public_key")
    if accounts is None:
        account_pk = "NULL"
        account_join = ""
        account_cols = "NULL, NULL, 0"
    else:
        account_id = creds.col("c", "account_id")
        by_key = f"(SELECT MIN(k.id) FROM {accounts.sql} k WHERE k.public_key = {key})"
        account_pk = f"CASE WHEN {account_id} IS NOT NULL THEN {account_id} ELSE {by_key} END"
        account_join = f" LEFT JOIN {accounts.sql} a ON a.id = x.account_pk"
        account_cols = (
            f"a.public_key, {accounts.col('a', 'signing_key_public')},"
            " CASE WHEN a.id IS NULL THEN 0 ELSE 1 END"
        )
    only_join = ""
    if only is not None:
        only_join = f" JOIN {only} k ON k.legacy_id = {d.as_text('c.id')}"
    user_cols, user_join = "", ""
    if with_user:
        user = ctx.table_of("accounts.User")
        user_cols = ", u.id, u.nats_problems"
        user_join = f" LEFT JOIN {user} u ON u.nats_legacy_id = x.legacy_id"
    return (
        f"SELECT x.legacy_id, x.owner, x.public_key, x.jwt, x.account_public_key,"
        f" x.expires_at, {account_cols}, x.seed_hash{user_cols}"
        f" FROM (SELECT c.id AS pk, {d.as_text('c.id')} AS legacy_id,"
        f" {d.as_text(creds.col('c', 'user_id'))} AS owner,"
        f" {creds.col('c', 'public_key')} AS public_key, {creds.col('c', 'jwt')} AS jwt,"
        f" {key} AS account_public_key,"
        f" {creds.col('c', 'expires_at', 'timestamp')} AS expires_at,"
        f" {creds.col('c', 'seed_hash')} AS seed_hash,"
        f" {account_pk} AS account_pk FROM {creds.sql} c{only_join}) x"
        f"{account_join}{user_join} ORDER BY x.pk"
    )


def _copied_value(
    ctx: Context, table: LegacyTable, alias: str, column: str, params: Params, kind: str = "text"
) -> str:
    """SQL: a legacy column's value as the copy stores it (and --verify expects it).

    A JWT loses the blanks around it: a token pasted with its line break decodes and
    passes every check, but a NATS client sends the stored string as it is, and the
    server refuses it with the break.
    """
    value = table.col(alias, column, kind)
    return ctx.dialect.trim_blanks(value, params) if column == "jwt" else value


def session_rows(ctx: Context, sessions: LegacyTable) -> OwnedRows:
    """How ``nats_auth_session`` maps onto natscreds.NatsAuthSession.

    The account is the session's own ``account_id``, else its credential's account;
    ``credential_id`` itself is not kept.
    """
    d = ctx.dialect
    target = ctx.table_of("natscreds.NatsAccount")
    creds = ctx.legacy(CREDENTIALS)
    account_id = sessions.col("s", "account_id")
    credential_id = sessions.col("s", "credential_id")
    by_id = (
        f"(SELECT a.id FROM {target} a WHERE a.legacy_source = '{ACCOUNTS}'"
        f" AND a.legacy_id = {d.as_text(account_id)})"
    )
    warnings: list[tuple[str, str]] = [
        ("account_missing", f"{account_id} IS NOT NULL AND {by_id} IS NULL")
    ]
    if creds is not None:
        via_credential = (
            f"(SELECT {_natscreds_account(ctx, creds, 'c')} FROM {creds.sql} c"
            f" WHERE c.id = {credential_id})"
        )
        account = f"CASE WHEN {account_id} IS NOT NULL THEN {by_id} ELSE {via_credential} END"
        warnings.append(
            (
                "credential_missing",
                f"{credential_id} IS NOT NULL AND NOT EXISTS"
                f" (SELECT 1 FROM {creds.sql} c WHERE c.id = {credential_id})",
            )
        )
    else:
        account = by_id
    account_differs = d.distinct("t.account_id", account)
    if creds is None:
        # The credential table was retired: an account that came through a credential
        # can no longer be traced, only a session's own account_id.
        account_differs = f"{account_id} IS NOT NULL AND {account_differs}"
    expires = sessions.col("s", "expires_at", "timestamp")
    closed = sessions.col("s", "closed_at", "timestamp")
    return OwnedRows(
        target="natscreds.NatsAuthSession",
        owner_source=OWNER_SOURCE,
        values={
            "account_id": account,
            "client_id": sessions.col("s", "client_id"),
            "ip_address": sessions.col("s", "ip_address"),
            "created_at": f"COALESCE({sessions.col('s', 'created_at', 'timestamp')}, %(now)s)",
            "expires_at": expires,
            "closed_at": closed,
        },
        warnings=tuple(warnings),
        never_wider=(
            Narrowing(
                "closed_in_legacy",
                f"t.closed_at IS NULL AND {closed} IS NOT NULL",
                (("closed_at", closed),),
            ),
            Narrowing(
                "expires_later_than_legacy",
                f"{expires} IS NOT NULL AND (t.expires_at IS NULL OR t.expires_at > {expires})",
                (("expires_at", expires),),
            ),
            Narrowing("account_differs", account_differs),
        ),
        when_deleted=(("closed_at", "%(now)s"),),
    )
