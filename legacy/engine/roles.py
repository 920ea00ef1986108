"""Legacy roles as Django groups: granted from a person's winning row only; a merged
row's other role is recorded as a conflict for an admin to decide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from legacy.engine.conflicts import MADE_BY_THIS_ROW, RIGHTS_RULE, _not_on_record, insert_conflicts
from legacy.engine.context import Context
from legacy.engine.foreign_keys import db_table_of
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params

if TYPE_CHECKING:
    from legacy.engine.people import PersonColumns


# Every character Python's str.strip() removes (no-break spaces included), as the API's
# role checks strip them: a role padded with any of them is the same role.
ROLE_BLANKS = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def role_key(ctx: Context, expr: str, params: Params) -> str:
    """A legacy role as a group name: trimmed of any blank and case-folded."""
    return f"LOWER({ctx.dialect.trim_blanks(expr, params, ROLE_BLANKS)})"


def _make_role_groups(ctx: Context, table: LegacyTable, cols: PersonColumns, staged: str) -> None:
    """Legacy roles become Django groups: one per role of a person's winning row.

    Made once per table from the staged rows, before any unit (a pass over the staged
    rows, where each unit joined its rows with the users again). A role whose rows all
    merge into a user that existed before gets its group too, with no members.
    """
    if cols.role == "NULL":
        return
    group = ctx.table_of("auth.Group")
    marker = ctx.table_of("accounts.RoleGroup")
    params = ctx.params()
    role = role_key(ctx, "n.role", params)
    roles = ctx.stage(
        f"roles_{table.key}",
        f"SELECT DISTINCT {role} AS name FROM {staged} n"
        f" WHERE n.reject_reason IS NULL AND n.position = 1 AND {role} <> ''",
        params,
    )
    # Groups that existed before stay the deployment's (the reverse keeps them).
    ctx.execute(
        f"INSERT INTO {marker} (group_id, created_by_copy) SELECT g.id, FALSE FROM {group} g"
        f" WHERE g.name IN (SELECT r.name FROM {roles} r)"
        f" AND NOT EXISTS (SELECT 1 FROM {marker} m WHERE m.group_id = g.id)",
        Params(),
    )
    created = ctx.execute(
        f"INSERT INTO {group} (name) SELECT r.name FROM {roles} r"
        f" WHERE NOT EXISTS (SELECT 1 FROM {group} g WHERE g.name = r.name)",
        Params(),
    )
    ctx.planner.grew("auth.Group", created)
    ctx.execute(
        f"INSERT INTO {marker} (group_id, created_by_copy) SELECT g.id, TRUE FROM {group} g"
        f" WHERE g.name IN (SELECT r.name FROM {roles} r)"
        f" AND NOT EXISTS (SELECT 1 FROM {marker} m WHERE m.group_id = g.id)",
        Params(),
    )
    ctx.drop_stage(roles)


def _grant_roles(
    ctx: Context, table: LegacyTable, cols: PersonColumns, new: str, first_rows: str
) -> None:
    """Each user the unit created joins the group of its winning row's role.

    Those users are new, with no groups yet: no anti-join. A winning row whose origin was
    deleted by hand finds the user it made in an earlier run; staging saw that user
    (``existing_user``), whose groups are left as they are (an admin may have taken the
    role away). A user staging saw that is gone since is made again by this unit, and
    gets the role.
    """
    if cols.role == "NULL":
        return
    user = ctx.table_of("accounts.User")
    group = ctx.table_of("auth.Group")
    params = ctx.params(source=table.key)
    role = role_key(ctx, "n.role", params)
    ctx.execute(
        f"INSERT INTO {_user_groups(ctx)} (user_id, group_id) SELECT u.id, g.id"
        f" FROM {new} n JOIN {user} u ON LOWER(u.email) = n.email_key"
        f" AND {first_rows} AND (n.existing_user IS NULL OR n.existing_user <> u.id)"
        f" JOIN {group} g ON g.name = {role} WHERE {role} <> ''"
        # Only the user this very row created: someone who signed up under the address
        # meanwhile keeps their own user, without the legacy row's rights.
        f" AND {MADE_BY_THIS_ROW}",
        params,
    )


def _user_groups(ctx: Context) -> str:
    """The users' group memberships table (Django's many-to-many), quoted."""
    return ctx.dialect.quote(db_table_of(ctx, "accounts.User.groups"))


def _record_role_conflicts(
    ctx: Context, table: LegacyTable, cols: PersonColumns, new: str, mergers: str
) -> None:
    """One Conflict (``role``) per merged row whose role its user does not have.

    The user's role comes from its winning row only (``_grant_roles``); a merged row's
    other role is not copied anywhere, so it is recorded, that an admin may grant it if it
    was meant. Run after the unit's grants and compared with the user's groups: the same
    role, or one the user was given by hand, is no conflict. The kept value is the user's
    role group (the first by name, should an admin have given it several).
    """
    if cols.role == "NULL":
        return
    user, group = ctx.table_of("accounts.User"), ctx.table_of("auth.Group")
    marker = ctx.table_of("accounts.RoleGroup")
    members = _user_groups(ctx)
    params = ctx.params(source=table.key)
    role, field = role_key(ctx, "n.role", params), params.add("role")
    insert_conflicts(
        ctx,
        f"SELECT u.id, {field}, %(source)s, n.legacy_id, u.legacy_source,"
        f" u.legacy_id, (SELECT MIN(g.name) FROM {members} m JOIN {group} g ON g.id = m.group_id"
        f" JOIN {marker} r ON r.group_id = g.id WHERE m.user_id = u.id), {role},"
        f" {params.add(RIGHTS_RULE)}, %(now)s, %(run)s"
        f" FROM {new} n JOIN {user} u ON LOWER(u.email) = n.email_key"
        f" WHERE n.reject_reason IS NULL AND {mergers} AND {role} <> ''"
        f" AND NOT ({MADE_BY_THIS_ROW})"
        f" AND NOT EXISTS (SELECT 1 FROM {members} m JOIN {group} g ON g.id = m.group_id"
        f" WHERE m.user_id = u.id AND g.name = {role})"
        f" AND {_not_on_record(ctx, 'u.id', field, 'n.legacy_id')}",
        params,
    )
