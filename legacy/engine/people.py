"""Legacy user rows into consolidated users: one user per person, every row accounted for.

One person = one email key (trimmed, case-insensitive; authcore.lib.emails). For each
legacy user table, in set-based statements over the rows not copied yet:

1. rows whose email cannot identify anyone are rejected (RowIssue), never dropped;
2. rows whose password is empty or of an unknown format are copied with an unusable
   password and a warning;
3. one user is created per new person: the first row of the person in this table wins
   (``order_by``), and a person who already has a user keeps it (earlier sources and
   earlier runs win: users > "user" > fu_users);
4. every valid row is recorded as an origin of its person's user;
5. each field on which a merged row disagrees with its user is recorded as a Conflict,
   and so is a merged row's role that its user did not get;
6. a row that is inactive makes its person inactive (fail closed);
7. a user whose winning row had no usable password takes the first usable one of the
   person's merged rows whose address was proven, so the person can still log in with a
   password they had; an unproven merged row's password is never taken
   (legacy/engine/trust.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from authcore.lib.hash_formats import UNUSABLE_PASSWORD
from legacy.engine.conflicts import (
    MADE_BY_THIS_ROW,
    NAMES,
    PASSWORD_TAKEN_RULE,
    RIGHTS_RULE,
    _record_conflicts,
    password_taken_from,
)
from legacy.engine.context import Context
from legacy.engine.foreign_keys import checked_afterwards
from legacy.engine.issues import (
    REJECTED,
    WARNING,
    clear_fixed,
    count_issues,
    has_fixed_rows,
    record_issues,
    was_rejected,
)
from legacy.engine.roles import (
    ROLE_BLANKS,
    _grant_roles,
    _make_role_groups,
    _record_role_conflicts,
    role_key,
)
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params
from legacy.engine.trust import holds_supported, verified_tables

# Re-exported: the admin, --verify, --sync and the tests name them here.
__all__ = [
    "NAMES",
    "PASSWORD_TAKEN_RULE",
    "RIGHTS_RULE",
    "ROLE_BLANKS",
    "PersonColumns",
    "copy_people",
    "fitted",
    "password_as_copied",
    "password_census",
    "password_taken_from",
    "role_key",
]


@dataclass(frozen=True)
class PersonColumns:
    """SQL expressions over alias ``s`` giving a legacy table's values for a user."""

    password: str
    last_login: str  # a typed NULL where there is no such column (Dialect.null)
    username: str = "NULL"
    full_name: str = "NULL"
    is_active: str = "s.is_active"
    is_superuser: str = "FALSE"
    is_verified: str = "FALSE"
    date_joined: str = "NULL"  # the copy's time where there is none
    role: str = "NULL"
    order_by: str = "n.legacy_pk"  # over the new-row columns: which row of a person wins
    rule: str = "the person's first row in the highest-priority source wins"
    # fastapi-users: a verified address stays verified whichever row wins.
    verified_carries_over: bool = False


def fitted(ctx: Context, cols: PersonColumns, field: str) -> str:
    """SQL: the legacy value of ``field`` (one of ``NAMES``) cut to what a user holds.

    The staging, the conflicts and --verify all read this, so a cut value is no
    difference; each cut row is reported as a warning, and the legacy row keeps it whole.
    """
    value = getattr(cols, field)
    return value if value == "NULL" else f"SUBSTR({value}, 1, {_room(ctx, field)})"


def _room(ctx: Context, field: str) -> int:
    return ctx.max_length("accounts.User", field)


def _cut_names(ctx: Context, cols: PersonColumns) -> str:
    """SQL: the fields ``fitted`` cuts in a row, e.g. 'full_name', or NULL if none."""
    cuts = [
        f"CASE WHEN LENGTH({getattr(cols, f)}) > {_room(ctx, f)} THEN ' {f}' ELSE '' END"
        for f in NAMES
        if getattr(cols, f) != "NULL"
    ]
    return f"NULLIF(TRIM({' || '.join(cuts)}), '')" if cuts else "NULL"


def _stage_new_rows(ctx: Context, table: LegacyTable, cols: PersonColumns) -> str:
    """Stage the rows of ``table`` that have no origin yet, mapped to user columns.

    One pass over the legacy table (the anti-join and every regex run once); every later
    step reads the small staged set instead of the legacy table again. ``existing_user``
    is the user a person already had before this table (an earlier source or run): with
    ``position`` it tells, before any unit runs, which few rows merge into a user. It is
    looked up through the email index, row by row: the planner cannot tell how few rows
    the anti-join leaves (it guesses half the table), and as a join it hashed the whole
    user table to find the users of a re-run's handful of new rows.

    The inner query checks each row on its own, with no correlated subquery, so that
    PostgreSQL runs it, every address and hash check, in parallel workers; the outer
    one (the window's sort, the look-ups) runs in one process (docs/performance.md).

    ``seq`` numbers the rows person by person (by email key), each person's rows in the
    winning order, in the one sort that ``position`` needs. Units follow it, so users are
    inserted in the order of both email indexes, which then grow at their ends instead of
    on random pages.
    """
    d = ctx.dialect
    user, origin = ctx.table_of("accounts.User"), ctx.table_of("accounts.UserOrigin")
    params = ctx.params(source=table.key)
    email = table.col("s", "email")
    person = "r.email_key, CASE WHEN r.reject_reason IS NULL THEN 0 ELSE 1 END"
    winning_order = cols.order_by.replace("n.", "r.")
    return ctx.stage(
        f"people_{table.key}",
        f"SELECT r.*,"
        f" {d.django_password_of_format('r.hash_format', 'r.legacy_password', params)}"
        f" AS password, CASE WHEN r.reject_reason IS NULL THEN (SELECT e.id FROM {user} e"
        f" WHERE LOWER(e.email) = r.email_key) END AS existing_user,"
        f" {was_rejected(ctx, 'r.legacy_id', params)} AS was_rejected,"
        f" ROW_NUMBER() OVER (PARTITION BY {person} ORDER BY {winning_order}) AS position,"
        f" ROW_NUMBER() OVER (ORDER BY {person}, {winning_order}) AS seq FROM ("
        f"SELECT s.id AS legacy_pk, {d.as_text('s.id')} AS legacy_id,"
        f" {email} AS raw_email,"
        f" {d.trim_blanks(email, params)} AS email,"
        f" {d.email_key(email, params)} AS email_key,"
        f" {d.email_problem(email, params)} AS reject_reason,"
        f" {d.hash_format(cols.password, params)} AS hash_format,"
        f" {cols.password} AS legacy_password,"
        f" {fitted(ctx, cols, 'username')} AS username,"
        f" {fitted(ctx, cols, 'full_name')} AS full_name, {_cut_names(ctx, cols)} AS cut,"
        f" COALESCE({cols.is_active}, FALSE) AS is_active,"
        f" COALESCE({cols.is_superuser}, FALSE) AS is_superuser,"
        f" COALESCE({cols.is_verified}, FALSE) AS is_verified,"
        f" COALESCE({cols.date_joined}, %(now)s) AS date_joined,"
        f" {cols.last_login} AS last_login,"
        f" {cols.role} AS role"
        f" FROM {table.sql} s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {origin} o"
        f" WHERE o.source = %(source)s AND o.legacy_id = {d.as_text('s.id')})"
        f"{d.computed_once()}) r",
        params,
        numbered=True,
    )


def copy_people(ctx: Context, table: LegacyTable, cols: PersonColumns) -> None:
    """Copy the new rows of one legacy user table (see the module docstring)."""
    result = ctx.report.table(table.key)
    result.rows = ctx.legacy_rows(table)
    staged = _stage_new_rows(ctx, table, cols)
    fixed = has_fixed_rows(ctx, staged)
    with ctx.unit(reads_legacy=False):  # a group and its marker are written together
        _make_role_groups(ctx, table, cols, staged)
    attached = 0  # a re-run with nothing new has no chunks: one anti-join in all
    # The user table's own foreign key (its NATS account) is empty in every copied user,
    # but each inserted row still queues a check for the commit.
    filled = ("accounts.User", "accounts.UserOrigin", "accounts.User.groups", "legacy.Conflict")
    total = ctx.count(staged)
    with checked_afterwards(ctx, total, *filled):
        # Chunks follow the people, each in the winning order, so a person's first row is
        # never in a later chunk than the rows merged into it.
        for chunk in ctx.chunks(table.key, staged, total):
            with ctx.unit(reads_legacy=False):
                attached += _copy_staged(ctx, table, cols, chunk, fixed)
    ctx.drop_stage(staged)
    ctx.planner.grown("accounts.User")
    ctx.planner.grown("accounts.UserOrigin")
    result.rejected = count_issues(ctx, table.key, REJECTED)
    result.warnings = count_issues(ctx, table.key, WARNING)
    result.already_done = max(result.rows - result.rejected - attached, 0)


def _copy_staged(
    ctx: Context, table: LegacyTable, cols: PersonColumns, new: str, fixed: bool
) -> int:
    """Steps 1-6 of the module docstring over the staged rows; returns rows attached."""
    result = ctx.report.table(table.key)
    user, origin = ctx.table_of("accounts.User"), ctx.table_of("accounts.UserOrigin")
    params = ctx.params(source=table.key)
    record_issues(
        ctx,
        table.key,
        REJECTED,
        f"SELECT n.legacy_id, n.reject_reason AS reason,"
        f" SUBSTR(COALESCE(n.raw_email, ''), 1, 200) AS detail"
        f" FROM {new} n WHERE n.reject_reason IS NOT NULL",
        params,
    )
    record_issues(
        ctx,
        table.key,
        WARNING,
        f"SELECT n.legacy_id, {params.add('password_unusable')} AS reason,"
        f" 'password is ' || n.hash_format || ': the account gets an unusable password'"
        f" AS detail FROM {new} n"
        f" WHERE n.reject_reason IS NULL AND n.password = {params.add(UNUSABLE_PASSWORD)}",
        params,
    )
    record_issues(
        ctx,
        table.key,
        WARNING,
        f"SELECT n.legacy_id, {params.add('value_cut')} AS reason,"
        f" 'too long for the user, cut: ' || n.cut || ' (the legacy row keeps it whole)'"
        f" AS detail FROM {new} n WHERE n.reject_reason IS NULL AND n.cut IS NOT NULL",
        params,
    )
    winners = "n.reject_reason IS NULL AND n.position = 1"
    with ctx.planner.index_joins():
        expected, vanished = _staged_guesses(ctx, new, winners)
    created = _create_users(ctx, new, winners, params, plain=not vanished)
    # Read in the units by index look-ups only (below, and the insert's ON CONFLICT).
    ctx.planner.grew("accounts.User", created, plans_unchanged=True)
    if fixed:
        clear_fixed(ctx, table.key, new)
    # Whether each row may give its user access (legacy/engine/trust.py): the row that
    # made the user, or one whose address its service had confirmed.
    proven = ("", "")
    if holds_supported(ctx):
        proven = (", proven", f", ({MADE_BY_THIS_ROW}) OR n.is_verified")
    with ctx.planner.index_joins():
        attached = ctx.execute(
            f"INSERT INTO {origin} (user_id, source, legacy_id, legacy_email, copied_at,"
            f" legacy_password, legacy_active{proven[0]})"
            f" SELECT u.id, %(source)s, n.legacy_id, n.raw_email, %(now)s, n.password,"
            f" n.is_active{proven[1]} FROM {new} n JOIN {user} u ON LOWER(u.email) = n.email_key"
            f" WHERE n.reject_reason IS NULL",
            params,
        )
        ctx.planner.grew("accounts.UserOrigin", attached, plans_unchanged=True)  # never read here
        result.copied += created
        result.merged += attached - created
        mergers = _mergers(created == expected and not vanished)
        _take_usable_password(ctx, table, new, mergers)
        _record_conflicts(ctx, table, cols, new, mergers)
        _fail_closed(ctx, table, new, mergers)
        if cols.verified_carries_over:
            _carry_verified(ctx, table, new, mergers)
        _grant_roles(ctx, table, cols, new, winners)
        _record_role_conflicts(ctx, table, cols, new, mergers)
    return attached


def _staged_guesses(ctx: Context, new: str, winners: str) -> tuple[int, int]:
    """What staging saw, and what no longer holds: (people of the unit who had no user,
    users staging found for the others that are gone or no longer have the address)."""
    user = ctx.table_of("accounts.User")
    expected, vanished = ctx.rows(
        f"SELECT COALESCE(SUM(CASE WHEN n.existing_user IS NULL THEN 1 ELSE 0 END), 0),"
        f" COALESCE(SUM(CASE WHEN n.existing_user IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM {user} u WHERE u.id = n.existing_user"
        f" AND LOWER(u.email) = n.email_key) THEN 1 ELSE 0 END), 0)"
        f" FROM {new} n WHERE {winners}",
        Params(),
    )[0]
    return expected, vanished


def _create_users(ctx: Context, new: str, winners: str, params: Params, plain: bool) -> int:
    """One user for each person of the unit who has none; returns how many were created.

    ``plain`` (every user staging found is still there): the people staging found
    without a user go in by a plain insert, as ON CONFLICT's speculative insertion is
    costly (docs/performance.md). If someone took one of their addresses since (a sign-up),
    that insert fails on the unique index; it is undone (a savepoint) and the careful
    insert below runs instead. Any other unique conflict fails the unit either way.
    """
    user = ctx.table_of("accounts.User")
    insert = (
        f"INSERT INTO {user} (email, password, username, full_name, is_active, is_staff,"
        f" is_superuser, is_verified, date_joined, last_login, legacy_source, legacy_id)"
        f" SELECT n.email, n.password, n.username, n.full_name, n.is_active, FALSE,"
        f" n.is_superuser, n.is_verified, n.date_joined, n.last_login, %(source)s, n.legacy_id"
        f" FROM {new} n WHERE {winners}"
    )
    if plain:
        try:
            with transaction.atomic(using=ctx.connection.alias):
                return ctx.execute(f"{insert} AND n.existing_user IS NULL", params)
        except IntegrityError:
            pass  # an address was taken since staging
    # A person who has a user now is skipped by the case-insensitive unique index itself:
    # a probe per row, where an anti-join would read the whole user table in every unit.
    return ctx.execute(f"{insert} ON CONFLICT (LOWER(email)) DO NOTHING", params)


def _mergers(staging_held: bool) -> str:
    """A condition on staged rows ``n``: those that may have merged into a user.

    Staging knew which people already had a user, so only rows after a person's first
    one, or of a person with a user, merge: a few rows, not the unit. Unless the users
    changed since (a sign-up in authcore took an address, an admin deleted a user or
    changed an address): then every row of the unit is compared.
    """
    if staging_held:
        return "(n.position > 1 OR n.existing_user IS NOT NULL)"
    return "1 = 1"


def _take_usable_password(ctx: Context, table: LegacyTable, new: str, mergers: str) -> None:
    """A user the copy made from a row without a usable password (empty, NULL, or of a
    format nobody can check) takes the first usable password of the person's merged rows.

    Same address, same person: left unusable, the password the person still has in
    another service would stop working, and nothing would let them in instead. Only users
    the copy made (``legacy_source``) whose password is still exactly the copy's unusable
    one: a password set or locked in authcore since is never replaced. Runs before the
    conflicts are recorded, whose Conflict then says so (``PASSWORD_TAKEN_RULE``); --verify
    and --sync treat the taken password as copied (``password_as_copied``).

    The unit's usable merged rows are ranked per person in one pass, and each first one
    finds its user through the email index: a look-up per merged row, as for the conflicts.
    """
    user = ctx.table_of("accounts.User")
    params = ctx.params(source=table.key)
    unusable = params.add(UNUSABLE_PASSWORD)
    ctx.execute(
        f"UPDATE {user} SET password = t.password FROM (SELECT n.email_key, n.password,"
        f" ROW_NUMBER() OVER (PARTITION BY n.email_key ORDER BY n.seq) AS k FROM {new} n"
        f" WHERE n.reject_reason IS NULL AND {mergers} AND n.password <> {unusable}"
        f" AND {_proves_its_address(ctx, table)}) t"
        f" WHERE t.k = 1 AND LOWER({user}.email) = t.email_key"
        f" AND {user}.password = {unusable} AND {user}.legacy_source IS NOT NULL",
        params,
    )


def _proves_its_address(ctx: Context, table: LegacyTable) -> str:
    """SQL over a staged row ``n``: its address was confirmed by its service (its own
    flag, or the source is declared verified), so as a merged row it may give its user a
    password (legacy/engine/trust.py). Before holds existed, every row did."""
    if not holds_supported(ctx) or table.key in verified_tables():
        return "TRUE"
    return "n.is_verified"


def password_as_copied(ctx: Context, params: Params) -> str:
    """SQL over a user ``u`` and its winning row's origin ``o``: the user's password is
    the one the copy gave it: the winning row's, or, where that one was unusable, a
    merged row's usable one (``_take_usable_password``)."""
    origin = ctx.table_of("accounts.UserOrigin")
    return (
        f"(u.password = o.legacy_password OR (o.legacy_password = {params.add(UNUSABLE_PASSWORD)}"
        f" AND EXISTS (SELECT 1 FROM {origin} m WHERE m.user_id = u.id"
        f" AND m.legacy_password = u.password)))"
    )


def _fail_closed(ctx: Context, table: LegacyTable, new: str, mergers: str) -> None:
    """A person inactive in any merged row is inactive after the move (a row that created
    its user gave it its own is_active already)."""
    _set_on_merged_users(ctx, table, new, mergers, "is_active", False, "n.is_active = FALSE")


def _carry_verified(ctx: Context, table: LegacyTable, new: str, mergers: str) -> None:
    """fastapi-users: a verified address stays verified whichever row won."""
    _set_on_merged_users(ctx, table, new, mergers, "is_verified", True, "n.is_verified")


def _set_on_merged_users(
    ctx: Context, table: LegacyTable, new: str, mergers: str, field: str, value: bool, when: str
) -> None:
    """Set boolean ``field`` to ``value`` on the users of the unit's merged rows where
    ``when``."""
    user = ctx.table_of("accounts.User")
    new_value, old_value = ("TRUE", "FALSE") if value else ("FALSE", "TRUE")
    ctx.execute(
        f"UPDATE {user} SET {field} = {new_value} WHERE {field} = {old_value}"
        f" AND LOWER(email) IN ("
        f"SELECT n.email_key FROM {new} n WHERE n.reject_reason IS NULL AND {mergers}"
        f" AND {when})",
        ctx.params(source=table.key),
    )


def password_census(ctx: Context, table: LegacyTable, cols: PersonColumns) -> dict[str, int]:
    """Rows per password-hash format (bcrypt, argon2, ..., empty, unrecognised)."""
    params = ctx.params()
    fmt = ctx.dialect.hash_format(cols.password, params)
    rows = ctx.rows(f"SELECT {fmt}, COUNT(*) FROM {table.sql} s GROUP BY 1 ORDER BY 1", params)
    return dict(rows)
