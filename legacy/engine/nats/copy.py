"""The NATS copy: ``nats_account``, ``nats_user_credential`` and ``nats_auth_session``.
Runs after every person exists: owners are ``users`` rows, found through UserOrigin.

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

from legacy.engine.context import Context
from legacy.engine.issues import REJECTED, WARNING, clear_resolved, count_issues, record_issues
from legacy.engine.nats.checks import _check_accounts, _check_credentials
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
    _held,
    _natscreds_account,
    _takes_legacy,
    log,
    session_rows,
)
from legacy.engine.owned import copy_owned
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params
from legacy.engine.trust import (
    holds_supported,
    record_holds,
)


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
    # Less the rows held, which the run's end counts (trust.note_held).
    result.already_done = max(result.rows - result.rejected - result.copied - result.merged, 0)
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
