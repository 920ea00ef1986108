"""Conflicts: a merged row that disagrees with its user, recorded field by field (the
user's value is kept; passwords are compared, never shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authcore.lib.hash_formats import UNUSABLE_PASSWORD
from legacy.engine.context import Context
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params

if TYPE_CHECKING:
    from legacy.engine.people import PersonColumns


# Fields compared when a row is merged into an existing user. Passwords are compared
# but never shown; the other values are not secret.
_COMPARED = ("password", "username", "full_name", "is_active", "is_superuser")
# Free-text fields that may be longer in a legacy row than a user holds (``"user"``'s
# first and last name are 150 characters each, its full name up to 301).
NAMES = ("username", "full_name")
# Why a merged row's superuser flag or role is not the user's.
RIGHTS_RULE = "rights come only from the winning row, never from a merged one"
# SQL over a staged row ``n`` and the user ``u`` that has its address: this very row made
# that user (``u`` is not someone else's who signed up under the address meanwhile).
# Checked on the user found by its address, never used to find it (COALESCE keeps it off
# the index): the unit's rows follow the email index, not the legacy ids.
MADE_BY_THIS_ROW = (
    "COALESCE(u.legacy_source, '') = %(source)s AND COALESCE(u.legacy_id, '') = n.legacy_id"
)
# A Conflict's columns, in the order ``insert_conflicts`` takes them.
CONFLICT_COLUMNS = (
    "user_id",
    "field",
    "source",
    "legacy_id",
    "winner_source",
    "winner_legacy_id",
    "kept_value",
    "other_value",
    "rule",
    "detected_at",
    "run_id",
)
PASSWORD_TAKEN_RULE = (
    "the winning row has no usable password: the first merged row's usable one is taken"
)


def insert_conflicts(ctx: Context, select_sql: str, params: Params) -> int:
    """Record each row of ``select_sql`` (the columns of ``CONFLICT_COLUMNS``) as a Conflict;
    the run's report counts them. Returns how many."""
    conflict = ctx.table_of("legacy.Conflict")
    added = ctx.execute(
        f"INSERT INTO {conflict} ({', '.join(CONFLICT_COLUMNS)}) {select_sql}", params
    )
    ctx.report.conflicts += added
    return added


def _record_conflicts(
    ctx: Context, table: LegacyTable, cols: PersonColumns, new: str, mergers: str
) -> None:
    """One Conflict per field on which a merged row disagrees with its user.

    One statement for every field: each merged row (``mergers`` narrows the unit to the
    rows that can merge) is looked up once and paired with each compared field. The rows
    are new (staged because they had no origin), and their conflicts are written in the
    same unit as their origin; but an origin deleted by hand leaves its row's conflicts,
    so a conflict already on record is skipped (``_not_on_record``).
    """
    d = ctx.dialect
    user = ctx.table_of("accounts.User")
    params = ctx.params(source=table.key)
    # field -> (value kept, value of the merged row, rule), all SQL; passwords are never
    # shown.
    winner_rule = params.add(cols.rule)
    taken = _password_taken(ctx, params)
    password_rule = (
        f"CASE WHEN {taken} THEN {params.add(PASSWORD_TAKEN_RULE)}"
        f" ELSE {params.add(cols.rule + '; the other password no longer works')} END"
    )
    shown: dict[str, tuple[str, str, str]] = {
        "password": ("NULL", "NULL", password_rule),
        "username": ("u.username", "n.username", winner_rule),
        "full_name": ("u.full_name", "n.full_name", winner_rule),
        # Whichever side is inactive, the person ends up inactive.
        "is_active": (
            params.add("false"),
            d.bool_text("n.is_active"),
            params.add("inactive in any row makes the person inactive (fail closed)"),
        ),
        "is_superuser": (
            d.bool_text("u.is_superuser"),
            d.bool_text("n.is_superuser"),
            params.add(RIGHTS_RULE),
        ),
    }
    fields = [f for f in _COMPARED if f not in NAMES or getattr(cols, f) != "NULL"]

    def each_field(value_of: dict[str, str]) -> str:
        whens = " ".join(f"WHEN {params.add(f)} THEN {value_of[f]}" for f in fields)
        return f"CASE f.field {whens} END"

    field_rows = " UNION ALL ".join(f"SELECT {params.add(f)} AS field" for f in fields)
    differs = {f: f"CASE WHEN {d.distinct(f'u.{f}', f'n.{f}')} THEN 1 ELSE 0 END" for f in fields}
    # The row whose password the user took is no longer different, and is recorded all
    # the same, with the rule that took it.
    differs["password"] = (
        f"CASE WHEN {d.distinct('u.password', 'n.password')} OR ({taken}) THEN 1 ELSE 0 END"
    )
    insert_conflicts(
        ctx,
        f"SELECT c.user_id, c.field, %(source)s, c.legacy_id, c.winner_source,"
        f" c.winner_legacy_id, c.kept_value, c.other_value, c.rule, %(now)s, %(run)s FROM ("
        f"SELECT u.id AS user_id, f.field, n.legacy_id, u.legacy_source AS winner_source,"
        f" u.legacy_id AS winner_legacy_id,"
        f" {each_field({f: kept for f, (kept, _, _) in shown.items()})} AS kept_value,"
        f" {each_field({f: other for f, (_, other, _) in shown.items()})} AS other_value,"
        f" {each_field({f: rule for f, (_, _, rule) in shown.items()})} AS rule,"
        f" {each_field(differs)} AS differs"
        f" FROM {new} n JOIN {user} u ON LOWER(u.email) = n.email_key"
        f" JOIN ({field_rows}) f ON 1 = 1"
        f" WHERE n.reject_reason IS NULL AND {mergers}"
        f" AND NOT ({MADE_BY_THIS_ROW})) c WHERE c.differs = 1"
        f" AND {_not_on_record(ctx, 'c.user_id', 'c.field', 'c.legacy_id')}",
        params,
    )


def _not_on_record(ctx: Context, user_id: str, field: str, legacy_id: str) -> str:
    """SQL: no Conflict on record yet for this user, field and legacy row (of the table
    in ``%(source)s``): one look-up of the unique index, for merged rows only."""
    conflict = ctx.table_of("legacy.Conflict")
    return (
        f"NOT EXISTS (SELECT 1 FROM {conflict} x WHERE x.user_id = {user_id}"
        f" AND x.field = {field} AND x.source = %(source)s AND x.legacy_id = {legacy_id})"
    )


def _password_taken(ctx: Context, params: Params) -> str:
    """SQL over a merged row ``n`` and its user ``u``: the user took this row's password
    (``_take_usable_password``): the two are equal, usable, and the user's winning row had
    none. The look-up of the winning row's origin (a unique index) runs only for rows
    whose password equals their user's, which are few.
    """
    unusable = params.add(UNUSABLE_PASSWORD)
    return (
        f"u.password = n.password AND n.password <> {unusable}"
        f" AND {_winner_had_no_password(ctx, params)}"
    )


def _winner_had_no_password(ctx: Context, params: Params) -> str:
    """SQL over a user ``u``: its winning row's password was unusable (one unique-index
    look-up of that row's origin), so the user may have taken a merged row's."""
    origin = ctx.table_of("accounts.UserOrigin")
    return (
        f"EXISTS (SELECT 1 FROM {origin} w WHERE w.source = u.legacy_source"
        f" AND w.legacy_id = u.legacy_id AND w.legacy_password = {params.add(UNUSABLE_PASSWORD)})"
    )


def password_taken_from(ctx: Context, params: Params) -> str:
    """SQL over a user ``u`` and an origin ``o``: the user's password is the one it took
    from the merged row of ``o`` (``_take_usable_password``), unchanged since."""
    return f"u.password = o.legacy_password AND {_winner_had_no_password(ctx, params)}"
