"""fastapi-users' people: ``fu_users``, which own nothing. Last in merge priority."""

from __future__ import annotations

from legacy.engine.people import PersonColumns
from legacy.engine.people_source import PeopleSource
from legacy.engine.schema import LegacyTable


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


SOURCE = PeopleSource(
    name="fastapi_users",
    description="fastapi-users' fu_users",
    columns=person_columns,
    owned={},
)
