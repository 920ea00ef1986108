"""The shared models' people: ``"user"``, and the ``user_api_key``, ``user_profile`` and
``user_session`` rows they own. Second in merge priority, after the auth service."""

from __future__ import annotations

from legacy.engine.api_keys import api_key_rows
from legacy.engine.owned import Narrowing, OwnedRows
from legacy.engine.people import PersonColumns
from legacy.engine.people_source import PeopleSource
from legacy.engine.schema import LegacyTable

USER, KEYS, PROFILES, SESSIONS = "user", "user_api_key", "user_profile", "user_session"


def person_columns(users: LegacyTable) -> PersonColumns:
    return PersonColumns(
        password=users.col("s", "hashed_password"),
        date_joined=users.col("s", "created_at", "timestamp"),
        last_login=users.dialect.null("timestamp"),
        username=users.col("s", "username"),
        full_name=(
            f"NULLIF(TRIM(COALESCE({users.col('s', 'first_name')}, '') || ' ' ||"
            f" COALESCE({users.col('s', 'last_name')}, '')), '')"
        ),
        is_superuser=users.col("s", "is_superuser", "boolean"),
        order_by="n.date_joined, n.legacy_id",
        rule='priority users > "user" > fu_users; within "user" the oldest row wins',
    )


def key_rows(keys: LegacyTable) -> OwnedRows:
    revoked = keys.col("s", "revoked_at", "timestamp")
    return api_key_rows(
        owner_source=USER,
        prefix=keys.col("s", "prefix"),
        scopes=keys.dialect.null(),
        is_active=f"CASE WHEN {revoked} IS NULL THEN TRUE ELSE FALSE END",
        created_at=keys.col("s", "created_at", "timestamp"),
        last_used_at=keys.dialect.null("timestamp"),
        expires_at=keys.col("s", "expires_at", "timestamp"),
        revoked_at=revoked,
    )


def profile_rows(profiles: LegacyTable) -> OwnedRows:
    d = profiles.dialect
    preferences = profiles.col("s", "preferences")
    return OwnedRows(
        target="accounts.Profile",
        owner_source=USER,
        values={
            "bio": profiles.col("s", "bio"),
            "avatar_url": profiles.col("s", "avatar_url"),
            "timezone": profiles.col("s", "timezone"),
            "locale": profiles.col("s", "locale"),
            "phone": profiles.col("s", "phone"),
            "preferences": d.json_object_or_empty(preferences),
        },
        one_per_user=True,
        # Copied with empty preferences; the original stays in the legacy table.
        warnings=(("preferences_not_object", f"NOT {d.json_is_object(preferences)}"),),
    )


def session_rows(sessions: LegacyTable) -> OwnedRows:
    expires = sessions.col("s", "expires_at", "timestamp")
    revoked = sessions.col("s", "revoked_at", "timestamp")
    return OwnedRows(
        target="accounts.LoginSession",
        owner_source=USER,
        values={
            "ip_address": sessions.col("s", "ip_address"),
            "user_agent": sessions.col("s", "user_agent"),
            "created_at": f"COALESCE({sessions.col('s', 'created_at', 'timestamp')}, %(now)s)",
            "last_seen_at": sessions.col("s", "last_seen_at", "timestamp"),
            "expires_at": expires,
            "revoked_at": revoked,
        },
        digest=("token_digest", "token_hash"),
        never_wider=(
            Narrowing(
                "revoked_in_legacy",
                f"t.revoked_at IS NULL AND {revoked} IS NOT NULL",
                (("revoked_at", revoked),),
            ),
            Narrowing(
                "expires_later_than_legacy", f"t.expires_at > {expires}", (("expires_at", expires),)
            ),
        ),
        when_deleted=(("revoked_at", "%(now)s"),),
    )


SOURCE = PeopleSource(
    name="shared_models",
    description='the shared models: "user", user_api_key, user_profile, user_session',
    columns=person_columns,
    owned={KEYS: key_rows, PROFILES: profile_rows, SESSIONS: session_rows},
)
