"""A small, messy demo legacy database: the kind of rows the copy must handle.

Used by ``manage.py demo`` (the README's first command) on the embedded SQLite default.
Hashes are made by the real libraries, so the demo logins are real logins.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import bcrypt
import nkeys
from argon2 import PasswordHasher
from django.apps import apps
from django.db import connections
from django.utils import timezone

from legacy.catalog import LEGACY_MODELS


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
DEMO_TOKEN = "tuGlKvrYEoiJcv7r7oIy7zXM9pqVnaxN_74obFz6lVo"  # an example token


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
        # Created without a password: copied with an unusable password.
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
    return 8 + _fill_nats(using, now)


def _nkey(prefix: int) -> nkeys.KeyPair:
    """A fresh nkey pair (the demo keeps no seed: only its hash goes in the table)."""
    return nkeys.from_seed(nkeys.encode_seed(os.urandom(32), prefix))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _user_jwt(user: nkeys.KeyPair, issuer: nkeys.KeyPair, expires: datetime, **nats: str) -> str:
    """A NATS v2 user JWT signed by ``issuer``, as the NATS tooling writes it."""
    claims = {
        "iat": int(expires.timestamp()) - 90 * 86400,
        "iss": issuer.public_key.decode(),
        "name": "demo",
        "sub": user.public_key.decode(),
        "exp": int(expires.timestamp()),
        "nats": {"pub": {}, "sub": {}, "subs": -1, "type": "user", "version": 2, **nats},
    }
    digest = hashlib.sha256(json.dumps(claims, separators=(",", ":")).encode()).digest()
    claims["jti"] = base64.b32encode(digest).decode().rstrip("=")
    header = {"typ": "JWT", "alg": "ed25519-nkey"}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    return f"{signing_input}.{_b64url(issuer.sign(signing_input.encode()))}"


def _fill_nats(using: str, now: datetime) -> int:
    """NATS: a rotated credential, one issued by a signing key, a tampered one."""
    model = partial(apps.get_model, "legacy")
    expires = now.replace(microsecond=0) + timedelta(days=90)
    account_key, signing_key = _nkey(nkeys.PREFIX_BYTE_ACCOUNT), _nkey(nkeys.PREFIX_BYTE_ACCOUNT)
    account = model("NatsAccount")(
        id=1,
        name="acme",
        public_key=account_key.public_key.decode(),
        signing_key_public=signing_key.public_key.decode(),
        created_at=now,
    )
    model("NatsAccount").objects.using(using).bulk_create([account])
    credential = model("NatsUserCredential")
    rows = []
    for pk, user_id, issuer, created, retired, _what in (
        (1, 1, account_key, now - timedelta(days=30), now - timedelta(days=1), "ann, rotated"),
        (2, 1, account_key, now - timedelta(days=1), None, "ann, current"),
        (3, 3, account_key, now, None, "bob: tampered below"),
        (4, 4, signing_key, now, None, "carol: issued by the signing key"),
    ):
        user = _nkey(nkeys.PREFIX_BYTE_USER)
        extra = {"issuer_account": account.public_key} if issuer is signing_key else {}
        rows.append(
            credential(
                id=pk,
                user_id=user_id,
                account_id=account.id,
                jwt=_user_jwt(user, issuer, expires, **extra),
                seed_hash=hashlib.sha512(user.seed).hexdigest(),
                public_key=user.public_key.decode(),
                account_public_key=account.public_key,
                expires_at=expires,
                expired_at=retired,
                created_at=created,
            )
        )
    # Bob's JWT granted itself more after signing: copied, but flagged (bad signature).
    head, claims, signature = rows[2].jwt.split(".")
    widened = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    widened["nats"]["pub"] = {"allow": [">"]}
    rows[2].jwt = f"{head}.{_b64url(json.dumps(widened).encode())}.{signature}"
    credential.objects.using(using).bulk_create(rows)
    session = model("NatsAuthSession")
    sessions = [
        # With credential_id (the account comes from the credential), and without.
        session(
            id=1,
            user_id=1,
            credential_id=2,
            client_id="ann-laptop",
            ip_address="192.0.2.20",
            created_at=now,
            expires_at=expires,
        ),
        session(
            id=2,
            user_id=3,
            account_id=1,
            client_id="bob-phone",
            ip_address="2001:db8::20",
            created_at=now,
            closed_at=now,
        ),
    ]
    session.objects.using(using).bulk_create(sessions)
    return 1 + len(rows) + len(sessions)
