"""Source 3, fastapi-users' ``fu_users`` (seed 003). Last in merge priority."""

from __future__ import annotations

from legacy.engine.context import Context
from legacy.engine.people import PersonColumns, copy_people, password_census
from legacy.engine.report import Verification
from legacy.engine.reverse import delete_copied, forget
from legacy.engine.schema import LegacyTable
from legacy.engine.sync import sync_people
from legacy.engine.trust import let_go_of_users
from legacy.engine.verify import verify_people

NAME = "fastapi_users"
DESCRIPTION = "fastapi-users' fu_users"
FU_USERS = "fu_users"
TABLES = (FU_USERS,)


def person_columns(users: LegacyTable) -> PersonColumns:
    return PersonColumns(
        password=users.col("s", "hashed_password"),
        last_login=users.dialect.null("timestamp"),
        is_superuser=users.col("s", "is_superuser", "boolean"),
        is_verified=users.col("s", "is_verified", "boolean"),
        date_joined=users.dialect.null("timestamp"),  # fu_users keeps no creation time
        order_by="n.legacy_id",
        rule='priority users > "user" > fu_users; within fu_users the lowest id wins',
        verified_carries_over=True,
    )


def copy(ctx: Context) -> None:
    users = ctx.legacy(FU_USERS)
    if users is None:
        ctx.report.notes.append("fastapi_users: no fu_users table, nothing to copy")
        return
    copy_people(ctx, users, person_columns(users))


def census(ctx: Context) -> dict[str, dict[str, int]]:
    users = ctx.legacy(FU_USERS)
    return {} if users is None else {FU_USERS: password_census(ctx, users, person_columns(users))}


def verify(ctx: Context, v: Verification) -> None:
    users = ctx.legacy(FU_USERS)
    if users is not None:
        verify_people(ctx, users, person_columns(users), v)


def sync(ctx: Context) -> None:
    users = ctx.legacy(FU_USERS)
    if users is not None:
        sync_people(ctx, users, person_columns(users))


def reverse(ctx: Context) -> None:
    forget(ctx, "legacy.RowIssue", source=FU_USERS)
    forget(ctx, "legacy.Conflict", source=FU_USERS)
    let_go_of_users(ctx, FU_USERS)
    delete_copied(ctx, "accounts.User", FU_USERS)
    forget(ctx, "accounts.UserOrigin", source=FU_USERS)
