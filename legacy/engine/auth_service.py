"""Source 1, the auth service: ``users`` and ``user_api_keys`` (seeds 000 and 001)."""

from __future__ import annotations

from legacy.engine.api_keys import api_key_rows
from legacy.engine.context import Context
from legacy.engine.owned import OwnedRows, copy_owned, verify_owned
from legacy.engine.people import PersonColumns, copy_people, password_census
from legacy.engine.report import Verification
from legacy.engine.reverse import delete_copied, forget
from legacy.engine.schema import LegacyTable
from legacy.engine.sync import sync_owned, sync_people
from legacy.engine.trust import forget_holds, let_go_of_users
from legacy.engine.verify import verify_people

NAME = "auth_service"
DESCRIPTION = "the auth service's users and user_api_keys"
USERS, KEYS = "users", "user_api_keys"
TABLES = (USERS, KEYS)


def person_columns(users: LegacyTable) -> PersonColumns:
    """How a ``users`` row maps onto a user, for the columns this deployment has."""
    return PersonColumns(
        # Seed 001: some deployments call the column hashed_password.
        password=users.col("s", users.first_present("password_hash", "hashed_password")),
        username=users.col("s", "username"),
        full_name=users.col("s", "full_name"),
        date_joined=users.col("s", "created_at", "timestamp"),
        last_login=users.col("s", "last_login_at", "timestamp"),
        role=users.col("s", "role"),
        rule="users: the row with the lowest id wins within the table",
    )


def key_rows(keys: LegacyTable) -> OwnedRows:
    return api_key_rows(
        owner_source=USERS,
        prefix=keys.col("s", "key_prefix"),
        scopes=keys.col("s", "scopes"),
        is_active=keys.col("s", "is_active", "boolean"),
        created_at=keys.col("s", "created_at", "timestamp"),
        last_used_at=keys.col("s", "last_used_at", "timestamp"),
        expires_at=keys.col("s", "expires_at", "timestamp"),
        revoked_at=keys.dialect.null("timestamp"),
    )


def copy(ctx: Context) -> None:
    users = ctx.legacy(USERS)
    if users is None:
        ctx.report.notes.append(f"auth_service: no {USERS!r} table, nothing to copy")
        return
    if users.first_present("password_hash", "hashed_password") is None:
        ctx.report.notes.append(
            f"auth_service: {users.name!r} has no password column; every account gets an "
            "unusable password"
        )
    copy_people(ctx, users, person_columns(users))
    keys = ctx.legacy(KEYS)
    if keys is not None:
        copy_owned(ctx, keys, key_rows(keys))


def census(ctx: Context) -> dict[str, dict[str, int]]:
    """How many ``users`` rows hold each password-hash format."""
    users = ctx.legacy(USERS)
    return {} if users is None else {USERS: password_census(ctx, users, person_columns(users))}


def verify(ctx: Context, v: Verification) -> None:
    users = ctx.legacy(USERS)
    if users is not None:
        verify_people(ctx, users, person_columns(users), v)
    keys = ctx.legacy(KEYS)
    if keys is not None:
        verify_owned(ctx, keys, key_rows(keys), v)


def sync(ctx: Context) -> None:
    users = ctx.legacy(USERS)
    if users is not None:
        sync_people(ctx, users, person_columns(users))
    keys = ctx.legacy(KEYS)
    if keys is not None:
        sync_owned(ctx, keys, key_rows(keys))


def reverse(ctx: Context) -> None:
    """Remove the keys, users, origins and records this source's copy created."""
    forget_holds(ctx, KEYS)
    forget(ctx, "legacy.RowIssue", source__in=[USERS, KEYS])
    forget(ctx, "legacy.Conflict", source=USERS)
    delete_copied(ctx, "accounts.ApiKey", KEYS)
    let_go_of_users(ctx, USERS)
    delete_copied(ctx, "accounts.User", USERS)
    forget(ctx, "accounts.UserOrigin", source=USERS)
    group_ids = (
        ctx.model("accounts.RoleGroup")
        ._base_manager.db_manager(ctx.connection.alias)
        .filter(created_by_copy=True)
        .values_list("group_id", flat=True)
    )
    forget(ctx, "auth.Group", pk__in=list(group_ids))
    forget(ctx, "accounts.RoleGroup")
