"""A small, messy demo legacy database: the kind of rows the copy must handle.

Used by ``manage.py demo`` (the README's first command) on the embedded SQLite default.
Hashes are made by the real libraries, so the demo logins are real logins.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import bcrypt
from argon2 import PasswordHasher
from django.apps import apps
from django.db import connections
from django.utils import timezone

from legacy.engine.schema import LEGACY_MODELS


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    note: str


DEMO_LOGINS = (
    DemoLogin("ann@example.com", "ann-password-1", "bcrypt $2b$ from the auth service"),
    DemoLogin("bob@example.com", "bob-password-2", "argon2id"),
    DemoLogin("ANN@example.com", "ann-password-1", "same person, any letter case"),
    DemoLogin("fay@example.com", "fay-password-3", "argon2id from fastapi-users"),
)
DEMO_TOKEN = "tuGlKvrYEoiJcv7r7oIy7zXM9pqVnaxN_74obFz6lVo"  # seed 001's example token


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_legacy_tables(using: str = "default") -> list[str]:
    """Create the legacy tables that do not exist yet, from the legacy models.

    The DDL is collected rather than run through an open schema editor, so this also
    works inside a transaction (SQLite's editor refuses to open in one).
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
    models = [apps.get_model("legacy", name) for name in LEGACY_MODELS.values()]
    missing = [m for m in models if m._meta.db_table not in existing]
    editor = connection.schema_editor(collect_sql=True)
    editor.deferred_sql = []  # what __enter__ would have set up
    for model in missing:
        editor.create_model(model)
    with connection.cursor() as cursor:
        for statement in [*editor.collected_sql, *map(str, editor.deferred_sql)]:
            cursor.execute(statement)
    return [m._meta.db_table for m in missing]


def fill_demo_rows(using: str = "default") -> int:
    """Insert the demo rows unless the legacy ``users`` table already has rows."""
    auth_user = apps.get_model("legacy", "AuthUser")
    api_key = apps.get_model("legacy", "AuthUserApiKey")
    if auth_user.objects.using(using).exists():
        return 0
    now = timezone.now()
    ann_hash = bcrypt.hashpw(b"ann-password-1", bcrypt.gensalt(rounds=10)).decode()
    other_hash = bcrypt.hashpw(b"someone-else", bcrypt.gensalt(rounds=10)).decode()
    users = [
        auth_user(
            id=1,
            email="ann@example.com",
            password_hash=ann_hash,
            full_name="Ann Example",
            username="ann",
            role="Admin ",
            is_active=True,
            created_at=now,
        ),
        # The same person again, differently cased and padded: merged, conflict recorded.
        auth_user(
            id=2,
            email="  Ann@Example.COM ",
            password_hash=other_hash,
            full_name="Ann E.",
            role="member",
            is_active=True,
            created_at=now,
        ),
        auth_user(
            id=3,
            email="bob@example.com",
            password_hash=PasswordHasher().hash("bob-password-2"),
            full_name="Bob",
            role="member",
            is_active=True,
            created_at=now,
        ),
        # Created without a password (seed 001): copied with an unusable password.
        auth_user(
            id=4,
            email="carol@example.com",
            password_hash="",
            role="readonly",
            is_active=True,
            created_at=now,
        ),
        # A hash of no known format: never guessed at, the account is locked and reported.
        auth_user(
            id=5,
            email="dave@example.com",
            password_hash="md5:5f4dcc3b5aa765d6",
            role="member",
            is_active=True,
            created_at=now,
        ),
        auth_user(
            id=6,
            email="eve@example.com",
            password_hash=ann_hash,
            role="member",
            is_active=False,
            created_at=now,
        ),
        # Not an email address: rejected, reported with the row, never dropped in silence.
        auth_user(
            id=7,
            email="not-an-email",
            password_hash=ann_hash,
            role="member",
            is_active=True,
            created_at=now,
        ),
    ]
    auth_user.objects.using(using).bulk_create(users)
    keys = [
        api_key(
            id=1,
            user_id=1,
            name="ci",
            key_prefix=DEMO_TOKEN[:8],
            key_hash=sha256_hex(DEMO_TOKEN),
            scopes="read,write",
            is_active=True,
            created_at=now,
            expires_at=now + timedelta(days=365),
        ),
        api_key(
            id=2,
            user_id=2,
            name="laptop",
            key_prefix="AbCdEfGh",
            key_hash=sha256_hex("ann-second-token"),
            is_active=True,
            created_at=now,
        ),
        api_key(
            id=3,
            user_id=3,
            name="old",
            key_prefix="ZyXwVuTs",
            key_hash=sha256_hex("bob-old-token"),
            is_active=False,
            created_at=now,
        ),
        # Its owner's row is gone: reported as owner_missing.
        api_key(
            id=4,
            user_id=99,
            name="orphan",
            key_prefix="Orphan00",
            key_hash=sha256_hex("orphan-token"),
            is_active=True,
            created_at=now,
        ),
        # Not a sha256 digest: reported as digest_invalid.
        api_key(
            id=5,
            user_id=3,
            name="broken",
            key_prefix="Broken00",
            key_hash="not-a-digest",
            is_active=True,
            created_at=now,
        ),
        # Its owner was rejected: reported as owner_rejected.
        api_key(
            id=6,
            user_id=7,
            name="rejected owner",
            key_prefix="Reject00",
            key_hash=sha256_hex("rejected-owner-token"),
            is_active=True,
            created_at=now,
        ),
    ]
    api_key.objects.using(using).bulk_create(keys)
    return len(users) + len(keys) + _fill_other_sources(using, now)


def _fill_other_sources(using: str, now: datetime) -> int:
    """Tenants, the shared models and fastapi-users, overlapping the auth service's people."""
    model = partial(apps.get_model, "legacy")
    client = model("AuthClient")(
        id=uuid.UUID(int=1), name="Acme Corp", slug="acme", is_active=True, created_at=now
    )
    model("AuthClient").objects.using(using).bulk_create([client])
    model("AuthUser").objects.using(using).filter(id__in=[1, 3]).update(client_id=client.id)
    shared = model("SharedUser")
    ann, sam = uuid.UUID(int=11), uuid.UUID(int=12)
    shared.objects.using(using).bulk_create(
        [
            # Ann again: lower priority than the auth service, so her password there loses.
            shared(
                id=ann,
                email="ANN@example.com",
                hashed_password=bcrypt.hashpw(b"ann-shared", bcrypt.gensalt(rounds=10)).decode(),
                first_name="Ann",
                last_name="Example",
                is_active=True,
                is_superuser=True,
                created_at=now,
            ),
            shared(
                id=sam,
                email="sam@example.com",
                hashed_password=None,
                first_name="Sam",
                is_active=True,
                is_superuser=False,
                created_at=now,
            ),
        ]
    )
    model("SharedUserProfile").objects.using(using).bulk_create(
        [
            model("SharedUserProfile")(
                id=uuid.UUID(int=21),
                user_id=ann,
                bio="Grüße!",
                timezone="Europe/Zürich",
                locale="de-CH",
                preferences={"theme": "dark", "emoji": "👋"},
            ),
        ]
    )
    session = model("SharedUserSession")
    session.objects.using(using).bulk_create(
        [
            session(
                id=uuid.UUID(int=31),
                user_id=ann,
                token_hash=sha256_hex("session-v4"),
                ip_address="192.0.2.10",
                user_agent="Firefox",
                created_at=now,
                expires_at=now + timedelta(days=7),
            ),
            session(
                id=uuid.UUID(int=32),
                user_id=ann,
                token_hash=sha256_hex("session-v6"),
                ip_address="2001:db8::1",
                user_agent="curl",
                created_at=now,
                expires_at=now + timedelta(days=7),
            ),
        ]
    )
    fu = model("FastapiUser")
    fu.objects.using(using).bulk_create(
        [
            fu(
                id=uuid.UUID(int=41),
                email="Bob@Example.com",
                hashed_password=PasswordHasher().hash("bob-fastapi"),
                is_active=True,
                is_superuser=False,
                is_verified=True,
            ),
            fu(
                id=uuid.UUID(int=42),
                email="fay@example.com",
                hashed_password=PasswordHasher().hash("fay-password-3"),
                is_active=True,
                is_superuser=False,
                is_verified=True,
            ),
        ]
    )
    return 8
