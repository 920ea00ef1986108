"""Source 4, NATS credentials: ``nats_account``, ``nats_user_credential`` and
``nats_auth_session`` (seed 002). Runs after every person exists: owners are ``users``
rows, found through UserOrigin.

1. Accounts become natscreds.NatsAccount (a public key already taken is rejected).
2. Credential rows whose owner was not copied are rejected (owner_missing, owner_rejected).
3. Per person, the newest credential that is not retired (``expired_at`` IS NULL) wins,
   else the newest (``created_at``, then id). Its values move onto the user (``nats_*``,
   ``nats_legacy_id`` naming the row); every other row of the person is recorded as a
   ``credential_superseded`` warning, so the report lists it. A user whose credential was
   issued in authcore (``nats_public_key`` set, ``nats_legacy_id`` empty) keeps it.
4. Every credential and account row is checked (authcore.lib.nats_checks: nkeys, JWT
   sub / iss / signature / exp). Signatures cannot be checked in SQL, so the rows are
   streamed through the checks, their results collected in temporary tables and written
   set-based at the end. A failing row is still copied: each problem is a RowIssue
   warning, and the user's ``nats_problems`` lists the codes ('' = passed).
5. Sessions become natscreds.NatsAuthSession on the person and the account (the session's
   ``account_id``, else its credential's account); ``credential_id`` is not kept.

Per-row decisions are logged on ``legacy.engine.nats`` at DEBUG (``--debug``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from authcore.lib import nats_checks
from legacy.engine.context import Context
from legacy.engine.issues import REJECTED, WARNING, clear_resolved, count_issues, record_issues
from legacy.engine.owned import Narrowing, OwnedRows, copy_owned, verify_owned
from legacy.engine.report import Problem, Report, Verification
from legacy.engine.reverse import delete_copied, forget
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params
from legacy.engine.sync import sync_owned
from legacy.engine.trust import (
    count_held,
    forget_holds,
    held_reason,
    held_rows,
    holds_supported,
    record_holds,
)
from legacy.engine.verify import report_held, report_rows, unaccounted, vanished

ACCOUNTS, CREDENTIALS, SESSIONS = "nats_account", "nats_user_credential", "nats_auth_session"
NAME = "nats"
DESCRIPTION = (
    "NATS: nats_account, nats_user_credential (onto the user, verified), nats_auth_session"
)
TABLES = (ACCOUNTS, CREDENTIALS, SESSIONS)
OWNER_SOURCE = "users"  # nats_user_credential.user_id and nats_auth_session.user_id
SUPERSEDED = "credential_superseded"
# Check results are appended to temporary tables this many rows per executemany (one
# row's parameters per execution), then written with one statement per step.
FLUSH_ROWS = 5000
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
_CODE_ORDER = {code: position for position, code in enumerate(nats_checks.ALL_CODES)}

log = logging.getLogger("legacy.engine.nats")


# ---- shared SQL ---------------------------------------------------------------------------


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


def _candidates(
    ctx: Context, creds: LegacyTable, params: Params, user_state: bool = False
) -> str:
    """Credential rows whose owner was copied, ranked per person: position 1 wins.

    Uses ``%(owner_source)s``. A row held for review (its owner is a merged row that
    proves nothing, legacy/engine/trust.py) is no candidate. The newest row not retired
    wins, else the newest. Only
    what the ranking and the decisions need: the values (a JWT runs to a kilobyte) are read
    from the legacy row, by ``legacy_pk``, for the few users that move on. Carrying them
    made every re-run sort and stage each credential's JWT again.

    With ``user_state``, each row also carries its user's ``nats_legacy_id``,
    ``nats_expired_at``, ``nats_public_key`` and ``nats_problems`` and its person's winner
    (``winner_id``): the copy's decisions then read the stage alone. Joining the user
    table once here, not in each of four later statements, made a re-run's credential
    step read a million users once instead of four times.
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


def _check_credential(row: tuple[Any, ...], check_expiry: bool) -> list[nats_checks.Problem]:
    _, _, public_key, jwt, account_public_key, expires_at, key, signing_key, known = row[:9]
    return nats_checks.check_user_credential(
        seed_hash=row[9],
        public_key=public_key,
        jwt=jwt,
        account_public_key=account_public_key,
        account_key=key,
        account_signing_keys=[signing_key],
        expires_at=expires_at,
        account_known=bool(known),
        check_expiry=check_expiry,
    )


def _account_rows(ctx: Context, accounts: LegacyTable, only: str | None = None) -> str:
    """Account rows (all, or those whose legacy_id is in stage ``only``) and their keys."""
    d = ctx.dialect
    only_join = "" if only is None else f" JOIN {only} k ON k.legacy_id = {d.as_text('s.id')}"
    return (
        f"SELECT {d.as_text('s.id')}, s.public_key, {accounts.col('s', 'signing_key_public')}"
        f" FROM {accounts.sql} s{only_join} ORDER BY s.id"
    )


def _unique(problems: list[nats_checks.Problem]) -> list[nats_checks.Problem]:
    """One problem per code (the first), in the order of nats_checks.ALL_CODES."""
    seen: dict[str, nats_checks.Problem] = {}
    for problem in problems:
        seen.setdefault(problem.code, problem)
    return sorted(seen.values(), key=lambda p: _CODE_ORDER.get(p.code, len(_CODE_ORDER)))


def codes_text(problems: list[nats_checks.Problem]) -> str:
    """How ``User.nats_problems`` spells a check result: codes, comma-separated."""
    return ",".join(p.code for p in _unique(problems))


def _describe(problems: list[nats_checks.Problem]) -> str:
    return "; ".join(f"{p.code}: {p.detail}" for p in problems) or "ok"


# ---- writing check results, set-based -------------------------------------------------------


class _CheckWriter:
    """Collects the check results of streamed rows, then writes them set-based.

    While the rows stream, each result is appended to two temporary tables (``FLUSH_ROWS``
    rows per ``executemany``): one row per checked row with its codes, one per problem.
    ``finish`` then writes them with one statement per step: flags of the checked rows that
    no longer hold are forgotten, new ones recorded as RowIssue warnings, and (for
    credentials) the users carrying a checked row get its codes. A statement per batch
    instead would join the whole user table once per batch.
    """

    def __init__(self, ctx: Context, source: str, update_users: bool) -> None:
        self.ctx = ctx
        self.source = source
        self.update_users = update_users
        self.checked = self._create("nats_checked", "legacy_id TEXT NOT NULL, codes TEXT NOT NULL")
        self.found = self._create(
            "nats_found", "legacy_id TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT"
        )
        self.checked_rows: list[tuple[str, str]] = []
        self.found_rows: list[tuple[str, str, str]] = []
        self.checked_count = 0
        self.found_count = 0
        self.indexed = False

    def _create(self, name: str, columns: str) -> str:
        table = self.ctx.dialect.quote(f"authcore_stage_{name}")
        self.ctx.drop_stage(table)
        self.ctx.execute(f"CREATE TEMPORARY TABLE {table} ({columns})", Params())
        return table

    def add(self, legacy_id: str, problems: list[nats_checks.Problem]) -> None:
        problems = _unique(problems)
        self.checked_rows.append((legacy_id, codes_text(problems)))
        self.found_rows.extend((legacy_id, p.code, p.detail[:1000]) for p in problems)
        if len(self.checked_rows) + len(self.found_rows) >= FLUSH_ROWS:
            self._append()

    def _append(self) -> None:
        """Append the results collected so far to the temporary tables."""
        with self.ctx.connection.cursor() as cursor:
            if self.checked_rows:
                cursor.executemany(
                    f"INSERT INTO {self.checked} (legacy_id, codes) VALUES (%s, %s)",
                    self.checked_rows,
                )
            if self.found_rows:
                cursor.executemany(
                    f"INSERT INTO {self.found} (legacy_id, reason, detail) VALUES (%s, %s, %s)",
                    self.found_rows,
                )
        self.checked_count += len(self.checked_rows)
        self.found_count += len(self.found_rows)
        self.checked_rows, self.found_rows = [], []

    def ready(self) -> None:
        """Append what is left, and index: statements may then read ``checked`` (legacy_id,
        codes) to write the codes themselves before ``finish``."""
        self._append()
        if not self.indexed:
            self._index()
            self.indexed = True

    def finish(self) -> None:
        """Write every collected result (one statement per step), drop the tables."""
        self.ready()
        if self.checked_count:
            self._forget_stale()
            if self.found_count:
                record_issues(
                    self.ctx,
                    self.source,
                    WARNING,
                    f"SELECT f.legacy_id, f.reason, f.detail FROM {self.found} f",
                    self.ctx.params(),
                )
            if self.update_users:
                self._update_users()
        self.ctx.drop_stage(self.found)
        self.ctx.drop_stage(self.checked)

    def _index(self) -> None:
        """Indexes for the correlated look-ups, statistics for the plans."""
        d = self.ctx.dialect
        for table, name, columns in (
            (self.checked, "nats_checked_id", "legacy_id"),
            (self.found, "nats_found_id", "legacy_id, reason"),
        ):
            index = d.quote(f"authcore_stage_{name}")
            self.ctx.execute(f"CREATE INDEX {index} ON {table} ({columns})", Params())
            self.ctx.planner.analyze(table)

    def _forget_stale(self) -> None:
        """Forget the flags of checked rows that the check no longer finds."""
        issue = self.ctx.table_of("legacy.RowIssue")
        params = self.ctx.params(issue_source=self.source, issue_kind=WARNING)
        codes = ", ".join(params.add(code, "code") for code in nats_checks.ALL_CODES)
        self.ctx.execute(
            f"DELETE FROM {issue} WHERE source = %(issue_source)s AND kind = %(issue_kind)s"
            f" AND reason IN ({codes})"
            f" AND legacy_id IN (SELECT c.legacy_id FROM {self.checked} c)"
            f" AND NOT EXISTS (SELECT 1 FROM {self.found} f"
            f" WHERE f.legacy_id = {issue}.legacy_id AND f.reason = {issue}.reason)",
            params,
        )

    def _update_users(self) -> None:
        """The users carrying a checked row get its codes: looked up by the rows' ids, as
        a re-run checks a few rows and a merge join read every user carrying one."""
        user = self.ctx.table_of("accounts.User")
        with self.ctx.planner.index_joins():
            self.ctx.execute(
                f"UPDATE {user} SET nats_problems = v.codes FROM {self.checked} v"
                f" WHERE {user}.nats_legacy_id = v.legacy_id"
                f" AND {self.ctx.dialect.distinct(f'{user}.nats_problems', 'v.codes')}",
                self.ctx.params(),
            )


def _check_accounts(ctx: Context, accounts: LegacyTable, only: str) -> None:
    """Stream the account rows listed in stage ``only`` through the checks."""
    writer = _CheckWriter(ctx, ACCOUNTS, update_users=False)
    for legacy_id, public_key, signing_key in ctx.stream(
        _account_rows(ctx, accounts, only), ctx.params()
    ):
        problems = nats_checks.check_account(public_key=public_key, signing_key=signing_key)
        log.debug("%s#%s checked: %s", ACCOUNTS, legacy_id, _describe(problems))
        writer.add(legacy_id, problems)
    writer.finish()


def _check_credentials(ctx: Context, creds: LegacyTable, only: str) -> _CheckWriter:
    """Stream the credential rows listed in stage ``only`` through the checks; the caller
    finishes the returned writer."""
    writer = _CheckWriter(ctx, CREDENTIALS, update_users=True)
    for row in ctx.stream(_credential_rows(ctx, creds, only=only), ctx.params()):
        problems = _check_credential(row, creds.has("expires_at"))
        log.debug(
            "%s#%s (owner %s#%s) checked: %s",
            CREDENTIALS,
            row[0],
            OWNER_SOURCE,
            row[1],
            _describe(problems),
        )
        writer.add(row[0], problems)
    writer.ready()
    return writer


# ---- copy ---------------------------------------------------------------------------------


def copy(ctx: Context) -> None:
    if not any(ctx.legacy(key) is not None for key in TABLES):
        ctx.report.notes.append("nats: no NATS tables, nothing to copy")
        return
    accounts = ctx.legacy(ACCOUNTS)
    if accounts is not None:
        with ctx.unit():
            _copy_accounts(ctx, accounts)
    creds = ctx.legacy(CREDENTIALS)
    if creds is not None:
        # One unit: winners, superseded rows and flags are only ever written together.
        with ctx.unit():
            _copy_credentials(ctx, creds)
    else:
        ctx.report.notes.append(
            f"nats: no {CREDENTIALS} table (retired?): users keep the credentials copied before"
        )
    sessions = ctx.legacy(SESSIONS)
    if sessions is not None:
        copy_owned(ctx, sessions, session_rows(ctx, sessions))
        _log_sessions(ctx, sessions)


def _stage_new_accounts(ctx: Context, accounts: LegacyTable) -> str:
    """Stage the account rows not copied yet, with the reason to reject each (or NULL)."""
    d = ctx.dialect
    target = ctx.table_of("natscreds.NatsAccount")
    params = ctx.params(source=ACCOUNTS)
    key = "s.public_key"
    return ctx.stage(
        "nats_accounts",
        f"SELECT {d.as_text('s.id')} AS legacy_id, s.name AS name, {key} AS public_key,"
        f" {_copied_value(ctx, accounts, 's', 'jwt', params)} AS jwt,"
        f" {accounts.col('s', 'signing_key_public')} AS signing_key_public,"
        f" COALESCE({accounts.col('s', 'created_at', 'timestamp')}, %(now)s) AS created_at,"
        f" CASE WHEN {key} IS NULL OR {key} = '' THEN {params.add('public_key_empty')}"
        f" WHEN s.name IS NULL THEN {params.add('name_empty')}"
        f" WHEN EXISTS (SELECT 1 FROM {target} t WHERE t.public_key = {key})"
        f" OR ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY s.id) > 1"
        f" THEN {params.add('public_key_duplicate')} END AS reject_reason"
        f" FROM {accounts.sql} s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.legacy_source = %(source)s"
        f" AND t.legacy_id = {d.as_text('s.id')})",
        params,
    )


def _copy_accounts(ctx: Context, accounts: LegacyTable) -> None:
    target = ctx.table_of("natscreds.NatsAccount")
    result = ctx.report.table(ACCOUNTS)
    result.rows = ctx.legacy_rows(accounts)
    new = _stage_new_accounts(ctx, accounts)
    if ctx.count(new):
        params = ctx.params(source=ACCOUNTS)
        record_issues(
            ctx,
            ACCOUNTS,
            REJECTED,
            f"SELECT n.legacy_id, n.reject_reason AS reason, n.public_key AS detail"
            f" FROM {new} n WHERE n.reject_reason IS NOT NULL",
            params,
        )
        result.copied += ctx.execute(
            f"INSERT INTO {target} (name, public_key, jwt, signing_key_public, created_at,"
            f" legacy_source, legacy_id)"
            f" SELECT n.name, n.public_key, n.jwt, n.signing_key_public, n.created_at,"
            f" %(source)s, n.legacy_id FROM {new} n WHERE n.reject_reason IS NULL",
            params,
        )
        clear_resolved(
            ctx, ACCOUNTS, f"SELECT n.legacy_id FROM {new} n WHERE n.reject_reason IS NULL"
        )
        _check_accounts(ctx, accounts, new)
    ctx.drop_stage(new)
    result.rejected = count_issues(ctx, ACCOUNTS, REJECTED)
    result.warnings = count_issues(ctx, ACCOUNTS, WARNING)
    result.already_done = max(result.rows - result.rejected - result.copied, 0)


def _stage_fresh_credentials(ctx: Context, creds: LegacyTable) -> str:
    """Stage the ids of credential rows not accounted for yet: not carried by a user, not
    superseded (rejected rows are tried again, as their owner may have been copied since).

    With the owner's legacy id, so that the steps over these rows need not read the
    legacy table again."""
    d = ctx.dialect
    user, issue = ctx.table_of("accounts.User"), ctx.table_of("legacy.RowIssue")
    params = ctx.params(source=CREDENTIALS, superseded=SUPERSEDED)
    return ctx.stage(
        "nats_credentials",
        f"SELECT c.id AS legacy_pk, {d.as_text('c.id')} AS legacy_id,"
        f" {d.as_text('c.user_id')} AS owner FROM {creds.sql} c"
        f" WHERE NOT EXISTS (SELECT 1 FROM {user} u"
        f" WHERE u.nats_legacy_id = {d.as_text('c.id')})"
        f" AND NOT EXISTS (SELECT 1 FROM {issue} i WHERE i.source = %(source)s"
        f" AND i.legacy_id = {d.as_text('c.id')} AND i.reason = %(superseded)s)",
        params,
    )


def _copy_credentials(ctx: Context, creds: LegacyTable) -> None:
    """Steps 2-4 of the module docstring.

    Every decision reads the staged ranking, which carries each user's NATS state: a
    statement that writes users or issues first narrows to the rows it changes, so a
    re-run with nothing new writes nothing and reads no table twice.
    """
    d = ctx.dialect
    result = ctx.report.table(CREDENTIALS)
    result.rows = ctx.legacy_rows(creds)
    user, issue = ctx.table_of("accounts.User"), ctx.table_of("legacy.RowIssue")
    params = ctx.params(source=CREDENTIALS, owner_source=OWNER_SOURCE, superseded=SUPERSEDED)
    # Winners are chosen over every row of a person, so a rotation (a new row) or a
    # retirement (expired_at set since) moves the user on. A user carrying a credential
    # issued in authcore keeps it. One pass over the legacy rows: later steps read the
    # staged ranking.
    candidates = ctx.stage(
        "nats_candidates", _candidates(ctx, creds, params, user_state=True), params
    )
    if d.needs_lookup_indexes:  # for the look-ups below
        for column in ("user_id", "legacy_id"):
            index = d.quote(f"authcore_stage_nats_candidates_{column}")
            ctx.execute(f"CREATE INDEX {index} ON {candidates} ({column})", Params())
    fresh = _stage_fresh_credentials(ctx, creds)
    if ctx.count(fresh):
        # A row is ranked, or held, once its owner was copied.
        origin = ctx.table_of("accounts.UserOrigin")
        owner = f" FROM {origin} o WHERE o.source = %(owner_source)s AND o.legacy_id = f.owner"
        owner_copied = f"SELECT 1{owner}"
        if holds_supported(ctx):
            held = _held(ctx, "o", "f.legacy_id", params)
            record_holds(
                ctx,
                "nats_credential",
                CREDENTIALS,
                f"SELECT o.user_id, f.legacy_id, %(owner_source)s AS owner_source,"
                f" f.owner AS owner_legacy_id, {held} AS reason,"
                f" 'of ' || %(owner_source)s || '#' || f.owner"
                f" || ', a merged row whose address was never proven' AS detail"
                f" FROM {fresh} f JOIN {origin} o ON o.source = %(owner_source)s"
                f" AND o.legacy_id = f.owner WHERE {held} IS NOT NULL",
                params,
            )
        record_issues(
            ctx,
            CREDENTIALS,
            REJECTED,
            f"SELECT f.legacy_id,"
            f" CASE WHEN EXISTS (SELECT 1 FROM {issue} i WHERE i.source = %(owner_source)s"
            f" AND i.legacy_id = f.owner AND i.kind = {params.add(REJECTED)})"
            f" THEN {params.add('owner_rejected')} ELSE {params.add('owner_missing')} END"
            f" AS reason, 'owner ' || %(owner_source)s || '#' || COALESCE(f.owner, '?')"
            f" AS detail FROM {fresh} f WHERE NOT EXISTS ({owner_copied})",
            params,
        )
        clear_resolved(  # rejected for a missing owner, which has been copied since
            ctx,
            CREDENTIALS,
            f"SELECT f.legacy_id FROM {fresh} f WHERE EXISTS ({owner_copied})",
            owner_source=OWNER_SOURCE,
        )

    def moves_on(state: str) -> str:
        """The user takes winner ``w``'s values: it carries another row, or the same row
        retired since. ``state``: where the user's NATS fields are read, ``w`` itself (its
        copy in the stage) or the user table."""
        return (
            f"w.position = 1 AND {_takes_legacy(state)}"
            f" AND ({d.distinct(f'{state}.nats_legacy_id', 'w.legacy_id')}"
            f" OR {d.distinct(f'{state}.nats_expired_at', 'w.expired_at')})"
        )

    # Check the new rows, the winners a user moves on to, and winners a user carries
    # unchecked (nats_problems NULL). The checks read only the legacy rows, so they run
    # before the users are written: a winner's codes are then written with its values,
    # not by a second pass over the same users.
    unchecked = ctx.stage(
        "nats_unchecked",
        f"SELECT f.legacy_id FROM {fresh} f UNION SELECT w.legacy_id FROM {candidates} w"
        f" WHERE ({moves_on('w')}) OR (w.position = 1 AND w.nats_legacy_id = w.legacy_id"
        f" AND w.nats_problems IS NULL)",
        ctx.params(),
    )
    writer = _check_credentials(ctx, creds, unchecked)
    movers = ctx.stage(
        "nats_movers", f"SELECT * FROM {candidates} w WHERE {moves_on('w')}", ctx.params()
    )
    if ctx.count(movers):
        result.copied += ctx.execute(
            f"UPDATE {user} SET nats_jwt = {_copied_value(ctx, creds, 'c', 'jwt', params)},"
            f" nats_seed_hash = {creds.col('c', 'seed_hash')},"
            f" nats_public_key = {creds.col('c', 'public_key')},"
            f" nats_account_id = {_natscreds_account(ctx, creds, 'c')},"
            f" nats_account_public_key = {creds.col('c', 'account_public_key')},"
            f" nats_expires_at = {creds.col('c', 'expires_at', 'timestamp')},"
            f" nats_expired_at = w.expired_at, nats_legacy_id = w.legacy_id,"
            f" nats_problems = v.codes"
            f" FROM {movers} w JOIN {creds.sql} c ON c.id = w.legacy_pk"
            f" LEFT JOIN {writer.checked} v ON v.legacy_id = w.legacy_id"
            # Checked again on the user itself: it may have changed since the stage.
            f" WHERE {user}.id = w.user_id AND {moves_on(user)}",
            params,
        )
    # A user whose every legacy credential is gone (deleted in the old table) keeps none:
    # never more access than the old table gives.
    cleared = ", ".join(
        f"{name if name != 'nats_account' else 'nats_account_id'} = NULL" for name in USER_FIELDS
    )
    gone = ctx.execute(
        f"UPDATE {user} SET {cleared} WHERE nats_legacy_id IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM {candidates} w WHERE w.user_id = {user}.id)",
        params,
    )
    if gone:
        ctx.report.notes.append(
            f"nats: cleared the credential of {gone} user(s) whose rows are gone from {creds.name}"
        )
    # Each user of a ranked row now carries its winner, unless it holds a credential
    # issued in authcore. A row that won since (its rival was retired) is no longer
    # superseded; every other ranked row is.
    carried = f"w.position = 1 AND {_takes_legacy('w')}"
    ctx.execute(
        f"DELETE FROM {issue} WHERE source = %(source)s AND reason = %(superseded)s"
        f" AND legacy_id IN (SELECT w.legacy_id FROM {candidates} w WHERE {carried})",
        params,
    )
    result.merged += record_issues(
        ctx,
        CREDENTIALS,
        WARNING,
        f"SELECT w.legacy_id, %(superseded)s AS reason,"
        f" CASE WHEN {_takes_legacy('w')}"
        f" THEN {params.add('user ')} || {d.as_text('w.user_id')} || {params.add(' carries ')}"
        f" || %(source)s || '#' || w.winner_id"
        f" ELSE {params.add('the user carries a credential issued in authcore')} END"
        f" AS detail FROM {candidates} w WHERE NOT ({carried})"
        # Those recorded before are left as they are: skipped here, not by a conflict each.
        f" AND NOT EXISTS (SELECT 1 FROM {issue} i WHERE i.source = %(source)s"
        f" AND i.legacy_id = w.legacy_id AND i.reason = %(superseded)s)",
        params,
    )
    # The check results: flags recorded and forgotten; the codes of users that carried
    # their winner unchecked (no new values above).
    writer.finish()
    for stage in (movers, unchecked, fresh, candidates):
        ctx.drop_stage(stage)
    result.rejected = count_issues(ctx, CREDENTIALS, REJECTED)
    result.warnings = count_issues(ctx, CREDENTIALS, WARNING)
    result.held = count_held(ctx, CREDENTIALS)
    done = result.rejected + result.copied + result.merged + result.held
    result.already_done = max(result.rows - done, 0)
    if log.isEnabledFor(logging.DEBUG):
        _log_credentials(ctx, creds)


def _log_credentials(ctx: Context, creds: LegacyTable) -> None:
    """One DEBUG line per credential row: carried by which user, superseded, or rejected."""
    d = ctx.dialect
    user, origin = ctx.table_of("accounts.User"), ctx.table_of("accounts.UserOrigin")
    issue = ctx.table_of("legacy.RowIssue")
    params = ctx.params(source=CREDENTIALS, owner_source=OWNER_SOURCE, kind=REJECTED)
    rows = ctx.stream(
        f"SELECT {d.as_text('c.id')}, {d.as_text('c.user_id')}, u.id, u.nats_legacy_id,"
        f" u.nats_problems,"
        f" (SELECT MIN(i.reason) FROM {issue} i WHERE i.source = %(source)s"
        f" AND i.legacy_id = {d.as_text('c.id')} AND i.kind = %(kind)s)"
        f" FROM {creds.sql} c LEFT JOIN {origin} o ON o.source = %(owner_source)s"
        f" AND o.legacy_id = {d.as_text('c.user_id')} LEFT JOIN {user} u ON u.id = o.user_id"
        f" ORDER BY c.id",
        params,
    )
    for legacy_id, owner, user_id, carried, flags, rejected in rows:
        if rejected:
            outcome = f"rejected ({rejected})"
        elif carried == legacy_id:
            outcome = f"carried by user {user_id}, " + (f"flagged: {flags}" if flags else "passed")
        elif carried is None:
            outcome = f"superseded: user {user_id} has a credential issued in authcore"
        else:
            outcome = f"superseded by {CREDENTIALS}#{carried} on user {user_id}"
        log.debug("%s#%s (owner %s#%s): %s", CREDENTIALS, legacy_id, OWNER_SOURCE, owner, outcome)


def session_rows(ctx: Context, sessions: LegacyTable) -> OwnedRows:
    """How ``nats_auth_session`` maps onto natscreds.NatsAuthSession.

    The account is the session's own ``account_id``, else its credential's account;
    ``credential_id`` itself is not kept (seed 002).
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


def _log_sessions(ctx: Context, sessions: LegacyTable) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    d = ctx.dialect
    target = ctx.table_of("natscreds.NatsAuthSession")
    issue = ctx.table_of("legacy.RowIssue")
    params = ctx.params(source=SESSIONS)
    rows = ctx.stream(
        f"SELECT {d.as_text('s.id')}, {d.as_text('s.user_id')},"
        f" {d.as_text(sessions.col('s', 'credential_id'))}, t.user_id, t.account_id,"
        f" (SELECT MIN(i.reason) FROM {issue} i WHERE i.source = %(source)s"
        f" AND i.legacy_id = {d.as_text('s.id')})"
        f" FROM {sessions.sql} s LEFT JOIN {target} t ON t.legacy_source = %(source)s"
        f" AND t.legacy_id = {d.as_text('s.id')} ORDER BY s.id",
        params,
    )
    for legacy_id, owner, credential, user_id, account_id, reason in rows:
        if user_id is None:
            outcome = f"rejected ({reason})"
        else:
            outcome = f"on user {user_id}, account {account_id}" + (
                f" ({reason})" if reason else ""
            )
        via = f" credential {credential}" if credential else " no credential_id"
        log.debug(
            "%s#%s (owner %s#%s,%s): %s", SESSIONS, legacy_id, OWNER_SOURCE, owner, via, outcome
        )


def census(ctx: Context) -> dict[str, dict[str, int]]:
    """Credential rows per state: current, past ``expires_at``, retired (``expired_at``)."""
    creds = ctx.legacy(CREDENTIALS)
    if creds is None:
        return {}
    expires = creds.col("c", "expires_at", "timestamp")
    expired = creds.col("c", "expired_at", "timestamp")
    params = ctx.params()
    rows = ctx.rows(
        f"SELECT CASE WHEN {expired} IS NOT NULL THEN {params.add('nats: retired')}"
        f" WHEN {expires} IS NOT NULL AND {expires} < %(now)s"
        f" THEN {params.add('nats: past expires_at')}"
        f" ELSE {params.add('nats: current')} END, COUNT(*)"
        f" FROM {creds.sql} c GROUP BY 1 ORDER BY 1",
        params,
    )
    return {CREDENTIALS: dict(rows)}


# ---- verify -------------------------------------------------------------------------------


@dataclass
class Audit:
    """Fresh check results of every legacy account and credential row (nothing written).

    ``flagged`` counts rows per table; ``counts`` rows per "table: code"; ``samples`` names
    the first ``sample_limit`` flagged rows.
    """

    sample_limit: int = 50
    checked: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(self.flagged.values())

    def add(self, table: str, legacy_id: str, problems: list[nats_checks.Problem]) -> None:
        self.checked[table] = self.checked.get(table, 0) + 1
        if not problems:
            return
        self.flagged[table] = self.flagged.get(table, 0) + 1
        for problem in problems:
            key = f"{table}: {problem.code}"
            self.counts[key] = self.counts.get(key, 0) + 1
        if len(self.samples) < self.sample_limit:
            self.samples.append(f"{table}#{legacy_id}: {_describe(problems)}")


def audit(ctx: Context, sample_limit: int = 50, v: Verification | None = None) -> Audit:
    """Check every account and credential row afresh; with ``v``, also report users whose
    recorded flags (``nats_problems``) no longer match the check."""
    result = Audit(sample_limit=sample_limit)
    accounts = ctx.legacy(ACCOUNTS)
    if accounts is not None:
        for legacy_id, public_key, signing_key in ctx.stream(
            _account_rows(ctx, accounts), ctx.params()
        ):
            problems = nats_checks.check_account(public_key=public_key, signing_key=signing_key)
            result.add(ACCOUNTS, legacy_id, _unique(problems))
    creds = ctx.legacy(CREDENTIALS)
    if creds is not None:
        for row in ctx.stream(_credential_rows(ctx, creds, with_user=True), ctx.params()):
            problems = _unique(_check_credential(row, creds.has("expires_at")))
            result.add(CREDENTIALS, row[0], problems)
            user_id, recorded = row[10], row[11]
            if v is not None and user_id is not None and recorded != codes_text(problems):
                v.add(
                    Problem(
                        source=CREDENTIALS,
                        legacy_id=str(row[0]),
                        problem="nats_flags_differ",
                        detail=f"user {user_id} records {recorded!r}, the check finds"
                        f" {codes_text(problems)!r}",
                    )
                )
    return result


def verify(ctx: Context, v: Verification) -> None:
    """Fail on data that is wrong; list credential flags as notes (they do not fail).

    Wrong data: a row neither copied, superseded nor rejected; a user carrying another row
    than the rule's winner, or values that differ from it; recorded flags that differ from
    a fresh check; sessions on another person or account, or wider than in the old table.
    Flags (a bad key, JWT or signature) describe the legacy data, which was copied as it
    is: they are listed, and drop_legacy_nats_credentials refuses while a credential has one.
    """
    _verify(ctx, v)


def _verify(ctx: Context, v: Verification) -> Audit | None:
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
    v.checked[ACCOUNTS] = ctx.legacy_rows(accounts)
    copied = f"SELECT t.legacy_id FROM {target} t WHERE t.legacy_source = %(source)s"
    report_rows(ctx, v, ACCOUNTS, "not_copied", unaccounted(ctx, accounts, copied, params), params)
    report_rows(ctx, v, ACCOUNTS, "legacy_row_missing", vanished(ctx, accounts, copied), params)
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
    v.checked[CREDENTIALS] = ctx.legacy_rows(creds)
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
    report_rows(
        ctx, v, CREDENTIALS, "not_copied", unaccounted(ctx, creds, accounted, params), params
    )
    report_rows(ctx, v, CREDENTIALS, "legacy_row_missing", vanished(ctx, creds, carried), params)
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


# ---- reverse ------------------------------------------------------------------------------


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


# ---- for drop_legacy_nats_credentials ------------------------------------------------------


@dataclass
class Readiness:
    """Whether the legacy credential table can be retired: the copy verifies, no flags,
    and no credential was rejected (a rejected row reached no user: dropping the table
    would leave it only in the backup)."""

    report: Report
    audit: Audit
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (legacy id, reason)

    @property
    def ok(self) -> bool:
        verification = self.report.verification
        # The table being retired is the credentials': account flags do not block it.
        flagged = self.audit.flagged.get(CREDENTIALS, 0)
        return (
            verification is not None and verification.ok and not flagged and not self.rejected
        )

    def problems(self) -> Iterator[str]:
        verification = self.report.verification
        if verification is not None:
            for key, count in verification.problem_counts.items():
                yield f"{key}: {count}"
            for p in verification.problems:
                yield f"{p.source}#{p.legacy_id}: {p.problem}" + (
                    f" ({p.detail})" if p.detail else ""
                )
        yield from (
            f"{CREDENTIALS}#{legacy_id}: rejected ({reason}), on no user"
            for legacy_id, reason in self.rejected
        )
        counts = self.audit.counts.items()
        yield from (f"flag {key}: {n}" for key, n in counts if key.startswith(CREDENTIALS))
        yield from (f"flag {line}" for line in self.audit.samples if line.startswith(CREDENTIALS))


def readiness(apps: Apps, *, using: str = DEFAULT_DB_ALIAS, sample_limit: int = 50) -> Readiness:
    """Verify the NATS copy and check every credential afresh (changes nothing)."""
    report = Report(sources=["nats"])
    with transaction.atomic(using=using):
        ctx = Context(apps=apps, connection=connections[using], report=report, now=timezone.now())
        report.verification = Verification(sample_limit=sample_limit)
        checks = _verify(ctx, report.verification)
        issues = apps.get_model("legacy", "RowIssue")._base_manager.using(using)
        rejected = list(
            issues.filter(source=CREDENTIALS, kind=REJECTED)
            .order_by("legacy_id")
            .values_list("legacy_id", "reason")[:sample_limit]
        )
    return Readiness(
        report=report, audit=checks or Audit(sample_limit=sample_limit), rejected=rejected
    )
