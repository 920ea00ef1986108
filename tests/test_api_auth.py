"""BearerApiKeyAuthentication and the health endpoints: who gets in, who gets a 401."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api.authentication import LAST_USED_RESOLUTION, looks_like_jwt
from accounts.models import ApiKey, User
from legacy.models import CopyRun

DETAILED = "/api/health/detailed"


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("ada@example.com", "correct horse")


@pytest.fixture
def make_key(user):
    """Makes a key the way the copy and the API store them; returns (key, token)."""

    def make(owner: User | None = None, **values) -> tuple[ApiKey, str]:
        token = secrets.token_urlsafe(32)
        values.setdefault("name", "test key")
        key = ApiKey.objects.create(
            user=owner or user, digest=sha256_hex(token), prefix=token[:8], **values
        )
        return key, token

    return make


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_health_needs_nothing(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


def test_health_ignores_a_bad_header(client, db):
    """A load balancer with a stale header must still see the service as up."""
    response = client.get("/api/health", **bearer("not-a-key"))
    assert response.status_code == 200


def test_detailed_health_with_a_valid_key(client, make_key):
    _key, token = make_key()
    CopyRun.objects.create(
        started_at=timezone.now(),
        finished_at=timezone.now(),
        trigger="command",
        outcome=CopyRun.Outcome.SUCCEEDED,
    )
    latest = CopyRun.objects.create(started_at=timezone.now(), trigger="migrate")

    response = client.get(DETAILED, **bearer(token))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["database"] == "ok"
    assert body["migrations"] == {"applied": True, "pending": []}
    assert body["legacy_copy"] == {
        "id": latest.pk,
        "outcome": "running",
        "finished_at": None,
        "trigger": "migrate",
    }
    assert body["timestamp"]


def test_detailed_health_before_any_copy(client, make_key):
    CopyRun.objects.all().delete()  # the test database's own migrate made one
    _key, token = make_key()
    response = client.get(DETAILED, **bearer(token))
    assert response.status_code == 200
    assert response.json()["legacy_copy"] is None


def test_key_header_scheme_is_case_insensitive(client, make_key):
    _key, token = make_key()
    response = client.get(DETAILED, HTTP_AUTHORIZATION=f"bearer {token}")
    assert response.status_code == 200


def test_request_auth_is_the_key(make_key):
    """Views can tell an API-key request (request.auth is the ApiKey) from a JWT one."""
    from rest_framework.test import APIRequestFactory

    from accounts.api.authentication import BearerApiKeyAuthentication

    key, token = make_key()
    request = APIRequestFactory().get("/", **bearer(token))
    user, auth = BearerApiKeyAuthentication().authenticate(request)
    assert (user, auth) == (key.user, key)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic YWRhQGV4YW1wbGUuY29tOmNvcnJlY3QgaG9yc2U=",
        "Token abcdef",
        "Bearer",
        "Bearer two tokens",
        "Bearer unknown-token-0123456789",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl",  # garbage JWT
        "Bearer a.b.c",
    ],
    ids=[
        "no-header",
        "basic",
        "token-scheme",
        "no-token",
        "spaces",
        "unknown",
        "garbage-jwt",
        "jwt-shaped",
    ],
)
def test_401_without_valid_credentials(client, db, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get(DETAILED, **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "values",
    [
        {"is_active": False},
        {"revoked_at": timezone.now() - timedelta(days=1)},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
    ids=["inactive", "revoked", "expired"],
)
def test_401_for_unusable_keys(client, make_key, values):
    _key, token = make_key(**values)
    assert client.get(DETAILED, **bearer(token)).status_code == 401


def test_401_for_a_key_expiring_now(client, make_key, monkeypatch):
    """expires_at is the first moment the key no longer works."""
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    _key, token = make_key(expires_at=now)
    assert client.get(DETAILED, **bearer(token)).status_code == 401


def test_key_that_expires_later_works(client, make_key):
    _key, token = make_key(expires_at=timezone.now() + timedelta(days=1))
    assert client.get(DETAILED, **bearer(token)).status_code == 200


def test_401_when_the_user_is_inactive(client, user, make_key):
    _key, token = make_key()
    user.is_active = False
    user.save()
    assert client.get(DETAILED, **bearer(token)).status_code == 401


def test_unknown_token_is_not_a_key_by_prefix(client, make_key):
    """Only the whole token counts: same prefix, different rest is a stranger."""
    _key, token = make_key()
    assert client.get(DETAILED, **bearer(token[:-1] + "x")).status_code == 401


def test_digest_is_never_the_token(make_key):
    key, token = make_key()
    assert token not in (key.digest, key.prefix)
    assert ApiKey.objects.filter(digest=token).count() == 0


def test_last_used_at_written_once_within_the_threshold(client, make_key):
    key, token = make_key()
    assert key.last_used_at is None

    assert client.get(DETAILED, **bearer(token)).status_code == 200
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None

    with CaptureQueriesContext(connection) as queries:
        assert client.get(DETAILED, **bearer(token)).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at == first
    assert not [q for q in queries if q["sql"].upper().startswith("UPDATE")]


def test_last_used_at_refreshed_after_the_threshold(client, make_key):
    old = timezone.now() - LAST_USED_RESOLUTION - timedelta(seconds=1)
    key, token = make_key(last_used_at=old)
    assert client.get(DETAILED, **bearer(token)).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at > old


def test_authentication_costs_one_query_then_one_update(make_key, django_assert_num_queries):
    """The lookup is one SELECT (user joined); the first use adds one UPDATE, no save()."""
    from rest_framework.test import APIRequestFactory

    from accounts.api.authentication import BearerApiKeyAuthentication

    _key, token = make_key()
    request = APIRequestFactory().get("/", **bearer(token))
    auth = BearerApiKeyAuthentication()
    with django_assert_num_queries(2):
        auth.authenticate(request)
    with django_assert_num_queries(1):
        auth.authenticate(request)


def test_legacy_copied_key_works(client, user):
    """A key as the copy engine writes it (legacy digest, origin recorded) authenticates."""
    token = "tuGlKvrYEoiJcv7r7oIy7zXM9pqVnaxN_74obFz6lVo"  # the old services' token format
    ApiKey.objects.create(
        user=user,
        name="legacy",
        prefix=token[:8],
        digest=sha256_hex(token),
        scopes="read,write",
        legacy_source="user_api_keys",
        legacy_id="1",
        created_at=timezone.now() - timedelta(days=400),
    )
    response = client.get(DETAILED, **bearer(token))
    assert response.status_code == 200
    assert client.get("/api/me", **bearer(token)).json()["email"] == "ada@example.com"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc_-123", True),
        ("a.b.c", True),
        ("tuGlKvrYEoiJcv7r7oIy7zXM9pqVnaxN_74obFz6lVo", False),
        ("a.b", False),
        ("a.b.c.d", False),
        ("a..c", False),
        ("a.b+/.c", False),
    ],
)
def test_looks_like_jwt(token, expected):
    assert looks_like_jwt(token) is expected


def test_detailed_health_reports_pending_migrations(client, make_key, monkeypatch):
    from accounts.api import health

    monkeypatch.setattr(health, "pending_migrations", lambda: ["accounts.9999_future"])
    _key, token = make_key()
    body = client.get(DETAILED, **bearer(token)).json()
    assert body["migrations"] == {"applied": False, "pending": ["accounts.9999_future"]}


def test_detailed_health_is_503_when_the_database_fails(client, make_key, monkeypatch):
    from accounts.api import health

    monkeypatch.setattr(health, "database_status", lambda: health.ERROR)
    _key, token = make_key()
    response = client.get(DETAILED, **bearer(token))
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["database"] == "error"
