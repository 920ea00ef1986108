"""JWT login/refresh/logout, /api/me, and tenant isolation (the tenants' RBAC)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import Membership, Tenant, User

PASSWORD = "correct horse battery"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("Ada.Lovelace@Example.com", PASSWORD, full_name="Ada")


def login(client: APIClient, email: str, password: str = PASSWORD):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


def as_jwt(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- login, refresh, logout ---------------------------------------------------------------


def test_login_with_email_in_another_case(client, user):
    response = login(client, "  ada.lovelace@EXAMPLE.COM ")

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    me = as_jwt(tokens["access"]).get("/api/me")
    assert me.status_code == 200
    assert me.json()["email"] == "Ada.Lovelace@Example.com"


def test_jwt_is_accepted_on_detailed_health(client, user):
    access = login(client, user.email).json()["access"]
    assert as_jwt(access).get("/api/health/detailed").status_code == 200


def test_login_wrong_password(client, user):
    assert login(client, user.email, "wrong").status_code == 401


def test_login_unknown_email(client, db):
    assert login(client, "nobody@example.com").status_code == 401


def test_login_inactive_user(client, user):
    user.is_active = False
    user.save()
    assert login(client, user.email).status_code == 401


def test_login_needs_both_fields(client, db):
    response = client.post("/api/auth/login", {"email": "a@example.com"}, format="json")
    assert response.status_code == 400


def test_login_upgrades_a_legacy_hash(client, db):
    """A hash in an older format still logs in, and is re-hashed with the default."""
    user = User.objects.create_user("old@example.com")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha1"))
    assert login(client, "OLD@example.com").status_code == 200
    user.refresh_from_db()
    assert not user.password.startswith("pbkdf2_sha1$")


def test_refresh_gives_new_tokens(client, user):
    refresh = login(client, user.email).json()["refresh"]

    response = client.post("/api/auth/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["access"]
    assert body["refresh"] != refresh  # rotated
    assert as_jwt(body["access"]).get("/api/me").status_code == 200
    # The rotated-out token is blacklisted.
    assert client.post("/api/auth/refresh", {"refresh": refresh}, format="json").status_code == 401


def test_logout_blacklists_the_refresh_token(client, user):
    refresh = login(client, user.email).json()["refresh"]

    response = client.post("/api/auth/logout", {"refresh": refresh}, format="json")

    assert response.status_code == 200
    assert BlacklistedToken.objects.filter(token__user=user).exists()
    after = client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert after.status_code == 401


def test_refresh_with_garbage(client, db):
    response = client.post("/api/auth/refresh", {"refresh": "not.a.jwt"}, format="json")
    assert response.status_code == 401


def test_refresh_for_a_deleted_user_is_401_not_500(client, user):
    refresh = login(client, user.email).json()["refresh"]
    user.delete()
    response = client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 401


def test_refresh_for_an_inactive_user(client, user):
    refresh = login(client, user.email).json()["refresh"]
    user.is_active = False
    user.save()
    response = client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 401


def test_access_token_of_an_inactive_user(client, user):
    access = login(client, user.email).json()["access"]
    user.is_active = False
    user.save()
    assert as_jwt(access).get("/api/me").status_code == 401


def test_refresh_token_is_not_an_access_token(client, user):
    refresh = login(client, user.email).json()["refresh"]
    assert as_jwt(refresh).get("/api/me").status_code == 401


def test_garbage_jwt(db):
    assert as_jwt("eyJhbGciOiJIUzI1NiJ9.e30.AAAA").get("/api/me").status_code == 401


# --- /api/me -----------------------------------------------------------------------------


def test_me_lists_groups_and_tenants(client, user):
    user.groups.add(Group.objects.create(name="support"))
    acme = Tenant.objects.create(name="Acme", slug="acme")
    Membership.objects.create(user=user, tenant=acme, role="admin")
    gone = Tenant.objects.create(name="Gone", slug="gone", is_active=False)
    Membership.objects.create(user=user, tenant=gone, role="owner")

    access = login(client, user.email).json()["access"]
    body = as_jwt(access).get("/api/me").json()

    assert body == {
        "id": user.pk,
        "email": "Ada.Lovelace@Example.com",
        "username": None,
        "full_name": "Ada",
        "is_verified": False,
        "groups": ["support"],
        "tenants": [{"slug": "acme", "name": "Acme", "role": "admin"}],
    }


def test_me_needs_credentials(db):
    assert APIClient().get("/api/me").status_code == 401


# --- tenants -----------------------------------------------------------------------------


@pytest.fixture
def tenants(user):
    """Tenant A with ``user`` (member) and Carol (owner); tenant B with Bob only."""
    a = Tenant.objects.create(name="A", slug="tenant-a")
    b = Tenant.objects.create(name="B", slug="tenant-b")
    carol = User.objects.create_user("carol@example.com", PASSWORD, full_name="Carol")
    bob = User.objects.create_user("bob@example.com", PASSWORD)
    Membership.objects.create(user=user, tenant=a, role="member")
    Membership.objects.create(user=carol, tenant=a, role="owner")
    Membership.objects.create(user=bob, tenant=b, role="admin")
    return a, b


@pytest.fixture
def ada(client, user) -> APIClient:
    return as_jwt(login(client, user.email).json()["access"])


def test_member_lists_own_tenant(ada, tenants):
    response = ada.get("/api/tenants/tenant-a/users")
    assert response.status_code == 200
    assert response.json() == [
        {"email": "Ada.Lovelace@Example.com", "full_name": "Ada", "role": "member"},
        {"email": "carol@example.com", "full_name": "Carol", "role": "owner"},
    ]


def test_member_of_a_gets_404_on_b(ada, tenants):
    response = ada.get("/api/tenants/tenant-b/users")
    assert response.status_code == 404


def test_unknown_tenant_looks_the_same(ada, tenants):
    unknown = ada.get("/api/tenants/no-such-tenant/users")
    other = ada.get("/api/tenants/tenant-b/users")
    assert unknown.status_code == other.status_code == 404
    assert unknown.json() == other.json()


def test_inactive_tenant_is_404(ada, tenants):
    a, _b = tenants
    a.is_active = False
    a.save()
    assert ada.get("/api/tenants/tenant-a/users").status_code == 404


@pytest.mark.parametrize("role", ["owner", "admin", "member", "readonly", "ReadOnly"])
def test_every_member_role_may_list(client, user, role):
    tenant = Tenant.objects.create(name="T", slug="t")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    access = login(client, user.email).json()["access"]
    assert as_jwt(access).get("/api/tenants/t/users").status_code == 200


def test_unknown_role_is_403(client, user):
    """A member (who knows the tenant exists) without a listed role is refused, not hidden."""
    tenant = Tenant.objects.create(name="T", slug="t")
    Membership.objects.create(user=user, tenant=tenant, role="personal_only")
    access = login(client, user.email).json()["access"]
    assert as_jwt(access).get("/api/tenants/t/users").status_code == 403


def test_superuser_is_not_special(client, tenants):
    User.objects.create_superuser("root@example.com", PASSWORD)
    access = login(client, "root@example.com").json()["access"]
    assert as_jwt(access).get("/api/tenants/tenant-a/users").status_code == 404


def test_tenant_users_need_credentials(tenants):
    assert APIClient().get("/api/tenants/tenant-a/users").status_code == 401


def test_has_tenant_role_factory():
    from accounts.api.permissions import MANAGE_ROLES, HasTenantRole, IsTenantMember

    permission = HasTenantRole(*MANAGE_ROLES)
    assert issubclass(permission, IsTenantMember)
    assert permission.roles == frozenset({"owner", "admin"})
