"""API key scopes mean something: a key does only what its scopes allow.

The scope names and what they allow are defined in accounts/api/scopes.py. Unscoped
legacy keys keep full access; password logins (JWTs) are not scope-limited.
"""

from __future__ import annotations

import hashlib
import secrets

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from accounts.api import scopes
from accounts.api import urls as api_urls
from accounts.api.authentication import BearerApiKeyAuthentication
from accounts.models import ApiKey, User

KEYS = "/api/keys"


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("ada@example.com", "correct horse")


@pytest.fixture
def other_key(user) -> ApiKey:
    """Another key of the same user: what a narrow key must not be able to revoke."""
    return make_key(user, scopes=None)[0]


def make_key(owner: User, scopes: str | None) -> tuple[ApiKey, str]:
    token = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=owner,
        name=f"scoped {scopes!r}",
        prefix=token[:8],
        digest=hashlib.sha256(token.encode()).hexdigest(),
        scopes=scopes,
    )
    return key, token


def client_for(user: User, scopes: str | None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(user, scopes)[1]}")
    return client


def jwt_client(user: User) -> APIClient:
    client = APIClient()
    login = client.post("/api/auth/login", {"email": user.email, "password": "correct horse"})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    return client


def revoke(client: APIClient, key: ApiKey) -> int:
    status = client.post(f"{KEYS}/{key.pk}/revoke").status_code
    key.refresh_from_db()
    return status


# ---- the attacker's attempts ----------------------------------------------------------------


def test_a_read_key_cannot_revoke_another_key(user, other_key):
    assert revoke(client_for(user, "read"), other_key) == 403
    assert other_key.is_active and other_key.revoked_at is None


@pytest.mark.parametrize("scoped", ["write", "read,write", "superuser", "read, all"])
def test_keys_without_the_keys_scope_cannot_revoke(user, other_key, scoped):
    assert revoke(client_for(user, scoped), other_key) == 403
    assert other_key.is_active


@pytest.mark.parametrize(
    "payload",
    [{"name": "wider"}, {"name": "wider", "scopes": []}, {"name": "wider", "scopes": ["admin"]}],
    ids=["unscoped", "empty", "admin"],
)
@pytest.mark.parametrize("scoped", ["read", "keys", "admin", None])
def test_no_key_creates_a_key_let_alone_a_wider_one(user, scoped, payload):
    before = ApiKey.objects.count()
    assert client_for(user, scoped).post(KEYS, payload, format="json").status_code == 403
    assert ApiKey.objects.count() == before + 1  # only the caller's own key


def test_a_key_whose_scopes_are_all_unknown_can_do_nothing(user):
    client = client_for(user, "superuser, ALL")
    assert client.get("/api/me").status_code == 403
    assert client.get(KEYS).status_code == 403
    assert client.get("/api/health/detailed").status_code == 403


def test_logging_out_everywhere_is_credential_management(user):
    try:
        url = reverse("api-logout-all")
    except NoReverseMatch:
        pytest.skip("no logout-all route")
    assert client_for(user, "read,write").post(url).status_code == 403


# ---- what each scope allows -------------------------------------------------------------------


@pytest.mark.parametrize("scoped", ["read", "write", "keys", " Read ", "READ,unknown", "admin"])
def test_reading_is_allowed_to_every_known_scope(user, scoped):
    client = client_for(user, scoped)
    assert client.get("/api/me").status_code == 200
    assert client.get(KEYS).status_code == 200
    assert client.head("/api/me").status_code == 200
    assert client.options("/api/me").status_code == 200


@pytest.mark.parametrize("scoped", ["keys", " KEYS ", "read,keys", "admin", "*", " Admin "])
def test_the_keys_scope_and_admin_revoke(user, other_key, scoped):
    assert revoke(client_for(user, scoped), other_key) == 200
    assert not other_key.is_active


@pytest.mark.parametrize(
    "scoped", [None, "", " ", " , ,"], ids=["null", "empty", "blank", "commas"]
)
def test_unscoped_legacy_keys_keep_full_access(user, other_key, scoped):
    client = client_for(user, scoped)
    assert client.get("/api/me").status_code == 200
    assert revoke(client, other_key) == 200


def test_a_scoped_key_reaches_no_route_outside_its_scopes(user):
    """An unsafe method on a route that lists no scope needs admin."""
    assert scopes.needed("POST", "api-some-new-route") == scopes.ADMIN
    assert not scopes.allows(frozenset({"read", "write", "keys"}), "POST", "api-some-new-route")
    assert scopes.allows(frozenset({"admin"}), "DELETE", "api-some-new-route")
    assert scopes.allows(None, "DELETE", "api-some-new-route")


def test_password_logins_are_not_scope_limited(user, other_key):
    client = jwt_client(user)
    assert revoke(client, other_key) == 200
    created = client.post(KEYS, {"name": "ci", "scopes": [" Read", "KEYS"]}, format="json")
    assert created.status_code == 201
    assert scopes.parse(ApiKey.objects.get(pk=created.json()["id"]).scopes) == {"read", "keys"}


def test_a_new_key_asks_only_for_known_scopes(user):
    response = jwt_client(user).post(
        KEYS, {"name": "ci", "scopes": ["read", "superuser"]}, format="json"
    )
    assert response.status_code == 400
    assert "superuser" in response.json()["scopes"][0]
    assert not ApiKey.objects.filter(name="ci").exists()


def test_a_held_key_is_refused_before_its_scopes_count(user):
    key, token = make_key(user, "admin")
    ApiKey.objects.filter(pk=key.pk).update(held=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/me").status_code == 401


# ---- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "parsed"),
    [
        (None, None),
        ("", None),
        (" , ", None),
        ("read", {"read"}),
        (" Read , WRITE ", {"read", "write"}),
        ("*", {"admin"}),
        ("read,,keys", {"read", "keys"}),
        ("bogus", {"bogus"}),
    ],
)
def test_stored_scopes_are_normalised(stored, parsed):
    assert scopes.parse(stored) == (None if parsed is None else frozenset(parsed))


def test_every_route_that_changes_something_names_its_scope():
    """A new unsafe route reachable with an API key must be given a scope in ROUTES."""
    checked = set()
    for pattern in api_urls.urlpatterns:
        view = getattr(pattern.callback, "cls", None)
        if view is None or BearerApiKeyAuthentication not in view.authentication_classes:
            continue
        unsafe = [m for m in ("post", "put", "patch", "delete") if hasattr(view, m)]
        if unsafe:
            assert pattern.name in scopes.ROUTES, (pattern.name, unsafe)
            checked.add(pattern.name)
    assert {"api-keys", "api-key-revoke"} <= checked
