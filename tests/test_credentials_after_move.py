"""After the move: old passwords log in (authenticate and the admin form), old tokens work."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.test import Client
from passlib.hash import pbkdf2_sha256
from rest_framework.test import APIClient
from werkzeug.security import generate_password_hash

from accounts.models import User
from legacy.engine import copy_legacy
from tests.conftest import bcrypt_hash, sha256_hex

LONG = "correct horse battery staple " * 4  # 116 bytes: over bcrypt's 72
PAST = datetime(2020, 1, 1, tzinfo=UTC)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def works(token: str) -> bool:
    """Whether the API accepts ``token`` as a Bearer key."""
    return bearer(token).get("/api/health/detailed").status_code == 200


@pytest.mark.parametrize(
    "make",
    [
        lambda pw: bcrypt_hash(pw),
        lambda pw: bcrypt_hash(pw, prefix=b"2a"),
        lambda pw: pbkdf2_sha256.hash(pw),
        lambda pw: generate_password_hash(pw, method="pbkdf2:sha256:1000"),
        lambda pw: generate_password_hash(pw, method="scrypt:16384:8:1"),
    ],
    ids=["bcrypt-2b", "bcrypt-2a", "passlib-pbkdf2", "werkzeug-pbkdf2", "werkzeug-scrypt"],
)
def test_every_format_logs_in_through_authenticate(legacy, make):
    legacy.user("ann@example.com", None, password_hash=make("s3cret!"))
    copy_legacy(apps)
    assert authenticate(email="ANN@example.com", password="s3cret!") is not None
    assert authenticate(email="ann@example.com", password="s3cret?") is None


def test_a_password_over_72_bytes_still_logs_in(legacy):
    # The old service (bcrypt < 5) hashed the first 72 bytes of a longer password.
    legacy.user("ann@example.com", None, password_hash=bcrypt_hash(LONG[:72]))
    copy_legacy(apps)
    assert authenticate(email="ann@example.com", password=LONG) is not None
    assert authenticate(email="ann@example.com", password="x" + LONG[1:]) is None


def test_the_admin_login_form_accepts_the_old_password_and_upgrades_it(legacy):
    legacy.user("admin@example.com", None, password_hash=bcrypt_hash("old-admin-pw"))
    copy_legacy(apps)
    User.objects.update(is_staff=True)  # staff rights are granted in authcore, never copied
    client = Client()

    refused = client.post("/admin/login/", {"username": "admin@example.com", "password": "wrong"})
    assert refused.status_code == 200
    assert User.objects.get().password.startswith("legacy_bcrypt$")  # no upgrade on failure

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "Admin@Example.com", "password": "old-admin-pw"},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert not User.objects.get().password.startswith("legacy_")  # upgraded at login


@pytest.mark.usefixtures("every_source_verified")
def test_a_token_from_each_key_table_works_and_lands_on_the_merged_person(legacy):
    auth_id = legacy.user("ann@example.com", "pw")
    legacy.api_key(auth_id, "auth-service-token")
    shared_id = legacy.insert(
        "user", email="ANN@example.com ", hashed_password=pbkdf2_sha256.hash("x")
    )
    legacy.insert(
        "user_api_key",
        user_id=shared_id,
        prefix="shared00",
        key_hash=sha256_hex("shared-models-token"),
    )
    copy_legacy(apps)
    person = User.objects.get()

    for token in ("auth-service-token", "shared-models-token"):
        response = bearer(token).get("/api/me")
        assert response.status_code == 200, token
        assert response.json()["email"] == person.email
        assert bearer(token).get("/api/health/detailed").status_code == 200


def test_tokens_that_did_not_work_before_do_not_work_after(legacy):
    auth_id = legacy.user("ann@example.com", "pw")
    legacy.api_key(auth_id, "inactive-token", is_active=False)
    inactive_id = legacy.user("gone@example.com", "pw", is_active=False)
    legacy.api_key(inactive_id, "inactive-user-token")
    shared_id = legacy.insert("user", email="bob@example.com")
    legacy.insert(
        "user_api_key",
        user_id=shared_id,
        prefix="p",
        key_hash=sha256_hex("revoked-token"),
        revoked_at=PAST,
    )
    legacy.insert(
        "user_api_key",
        user_id=shared_id,
        prefix="p",
        key_hash=sha256_hex("expired-token"),
        expires_at=PAST,
    )
    copy_legacy(apps)

    for token in ("inactive-token", "inactive-user-token", "revoked-token", "expired-token"):
        assert bearer(token).get("/api/health/detailed").status_code == 401, token
    assert hashlib.sha256(b"x").hexdigest() not in str(User.objects.values_list())
