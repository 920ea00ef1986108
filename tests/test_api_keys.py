"""API key management: create (token shown once), list (never the digest), revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, User

KEYS = "/api/keys"


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_key(owner: User, name: str = "key") -> tuple[ApiKey, str]:
    token = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=owner, digest=sha256_hex(token), prefix=token[:8], name=name)
    return key, token


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("ada@example.com", "correct horse")


@pytest.fixture
def other(db) -> User:
    return User.objects.create_user("bob@example.com", "battery staple")


@pytest.fixture
def client(user) -> APIClient:
    """A client logged in as ``user`` with a password (a JWT): it may create keys."""
    client = APIClient()
    login = client.post("/api/auth/login", {"email": user.email, "password": "correct horse"})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    return client


@pytest.fixture
def key_client(user) -> APIClient:
    """A client that sends one of ``user``'s API keys."""
    _key, token = make_key(user, "bootstrap")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_an_api_key_cannot_mint_another_key(key_client):
    response = key_client.post(KEYS, {"name": "forever"}, format="json")
    assert response.status_code == 403
    assert key_client.get(KEYS).status_code == 200  # listing with a key is fine


def test_create_returns_the_token_once(client, user):
    response = client.post(KEYS, {"name": "ci", "scopes": ["read", "write"]}, format="json")

    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert len(token) >= 43
    assert body["prefix"] == token[:8]
    assert body["scopes"] == ["read", "write"]
    assert body["is_active"] is True
    assert body["revoked_at"] is None
    assert "digest" not in body

    key = ApiKey.objects.get(pk=body["id"])
    assert key.user == user
    assert key.digest == sha256_hex(token)
    assert key.scopes == "read,write"
    assert token not in {key.digest, key.prefix, key.name, key.scopes}

    # The new token works, and no later answer shows it again.
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    listing = fresh.get(KEYS)
    assert listing.status_code == 200
    assert token not in listing.content.decode()


def test_create_with_expiry(client):
    expires = timezone.now() + timedelta(days=30)
    response = client.post(KEYS, {"name": "temp", "expires_at": expires.isoformat()}, format="json")
    assert response.status_code == 201
    assert ApiKey.objects.get(pk=response.json()["id"]).expires_at == expires


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x", "expires_at": "2000-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["a,b"]},
    ],
    ids=["no-name", "empty-name", "expired", "comma-scope"],
)
def test_create_rejects_bad_input(client, payload):
    assert client.post(KEYS, payload, format="json").status_code == 400


def test_create_ignores_read_only_fields(client, user):
    response = client.post(
        KEYS,
        {"name": "sneaky", "prefix": "AAAAAAAA", "is_active": False, "digest": "0" * 64},
        format="json",
    )
    assert response.status_code == 201
    key = ApiKey.objects.get(pk=response.json()["id"])
    assert key.prefix != "AAAAAAAA"
    assert key.is_active is True
    assert key.digest != "0" * 64


def test_list_shows_only_own_keys_and_never_the_digest(client, user, other):
    mine, _ = make_key(user, "mine")
    theirs, _ = make_key(other, "theirs")

    response = client.get(KEYS)

    assert response.status_code == 200
    rows = response.json()
    ids = {row["id"] for row in rows}
    assert mine.pk in ids
    assert theirs.pk not in ids
    text = response.content.decode()
    assert mine.digest not in text
    assert theirs.digest not in text
    assert set(rows[0]) == {
        "id",
        "name",
        "prefix",
        "scopes",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    }


def test_revoke_then_the_key_is_refused(client, user):
    key, token = make_key(user, "to revoke")

    response = client.post(f"{KEYS}/{key.pk}/revoke")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["revoked_at"] is not None
    key.refresh_from_db()
    assert key.is_active is False
    assert key.revoked_at is not None

    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert revoked.get("/api/health/detailed").status_code == 401


def test_revoke_twice_keeps_the_first_time(client, user):
    key, _ = make_key(user)
    first = client.post(f"{KEYS}/{key.pk}/revoke").json()["revoked_at"]
    second = client.post(f"{KEYS}/{key.pk}/revoke")
    assert second.status_code == 200
    assert second.json()["revoked_at"] == first


def test_a_key_can_revoke_itself(user):
    key, token = make_key(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(f"{KEYS}/{key.pk}/revoke").status_code == 200
    assert client.get(KEYS).status_code == 401


def test_cannot_revoke_another_users_key(client, other):
    theirs, token = make_key(other)

    response = client.post(f"{KEYS}/{theirs.pk}/revoke")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active is True
    assert theirs.revoked_at is None


def test_revoke_unknown_key_is_404(client):
    assert client.post(f"{KEYS}/999999/revoke").status_code == 404


def test_keys_need_credentials(db):
    anonymous = APIClient()
    assert anonymous.get(KEYS).status_code == 401
    assert anonymous.post(KEYS, {"name": "x"}, format="json").status_code == 401


def test_manage_keys_with_a_jwt(user):
    login = APIClient().post(
        "/api/auth/login", {"email": user.email, "password": "correct horse"}, format="json"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    created = client.post(KEYS, {"name": "from jwt"}, format="json")
    assert created.status_code == 201
    assert [row["name"] for row in client.get(KEYS).json()] == ["from jwt"]
    assert client.post(f"{KEYS}/{created.json()['id']}/revoke").status_code == 200
