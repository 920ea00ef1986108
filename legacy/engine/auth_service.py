"""The auth service's people: ``users``, and the ``user_api_keys`` they own. First in merge
priority."""

from __future__ import annotations

from legacy.engine.api_keys import api_key_rows
from legacy.engine.owned import OwnedRows
from legacy.engine.people import PersonColumns
from legacy.engine.people_source import PeopleSource
from legacy.engine.schema import LegacyTable

USERS, KEYS = "users", "user_api_keys"


def person_columns(users: LegacyTable) -> PersonColumns:
    """How a ``users`` row maps onto a user, for the columns this deployment has."""
    return PersonColumns(
        # Some deployments call the column hashed_password.
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


SOURCE = PeopleSource(
    name="auth_service",
    description="the auth service's users and user_api_keys",
    columns=person_columns,
    owned={KEYS: key_rows},
    roles=True,
)
