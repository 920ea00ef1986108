"""Tenant members: roles ordered, no escalation, the last owner stays, invitations are
granted only to a verified address, once, with the invited role."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.flows import tenant_members
from accounts.membership_models import Invitation, MembershipChange
from accounts.models import Membership, Tenant, User
from tests.account_helpers import (
    PASSWORD,
    as_bearer,
    client,
    jwt_client,
    last_token,
    make_user,
)

ROLES = ["owner", "admin", "member", "readonly"]
RANK = {"owner": 4, "admin": 3, "member": 2, "readonly": 1}
_people = itertools.count(1)


def person(tenant: Tenant | None = None, role: str | None = None, verified: bool = True) -> User:
    user = make_user(f"p{next(_people)}@example.com", verified=verified)
    if tenant is not None and role is not None:
        Membership.objects.create(tenant=tenant, user=user, role=role)
    return user


@pytest.fixture
def tenant(db) -> Tenant:
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    # A second owner nobody touches, so the last-owner rule stays out of the way.
    person(tenant, "owner")
    return tenant


def members(tenant: Tenant) -> dict[str, str]:
    return dict(Membership.objects.filter(tenant=tenant).values_list("user__email", "role"))


def member_url(user: User) -> str:
    return f"/api/tenants/acme/users/{user.email}"


# --- the rules, every combination ---------------------------------------------------------


@pytest.mark.parametrize("actor_role,role", list(itertools.product(ROLES, ROLES)))
def test_adding_grants_no_role_above_ones_own(tenant, actor_role, role):
    actor = person(tenant, actor_role)
    newcomer = person()
    response = jwt_client(actor.email).post(
        "/api/tenants/acme/users", {"email": newcomer.email, "role": role}, format="json"
    )
    allowed = actor_role in ("owner", "admin") and RANK[role] <= RANK[actor_role]
    assert response.status_code == (201 if allowed else 403)
    assert members(tenant).get(newcomer.email) == (role if allowed else None)


@pytest.mark.parametrize(
    "actor_role,target_role,role", list(itertools.product(ROLES, ROLES, ROLES))
)
def test_changing_a_role(tenant, actor_role, target_role, role):
    actor = person(tenant, actor_role)
    target = person(tenant, target_role)
    response = jwt_client(actor.email).patch(member_url(target), {"role": role}, format="json")
    allowed = (
        actor_role in ("owner", "admin")
        and RANK[target_role] <= RANK[actor_role]
        and RANK[role] <= RANK[actor_role]
    )
    assert response.status_code == (200 if allowed else 403)
    assert members(tenant)[target.email] == (role if allowed else target_role)
    changes = MembershipChange.objects.filter(tenant=tenant, action="role_changed")
    assert changes.exists() == (allowed and role != target_role)


@pytest.mark.parametrize("actor_role,target_role", list(itertools.product(ROLES, ROLES)))
def test_removing_a_member(tenant, actor_role, target_role):
    actor = person(tenant, actor_role)
    target = person(tenant, target_role)
    response = jwt_client(actor.email).delete(member_url(target))
    allowed = actor_role in ("owner", "admin") and RANK[target_role] <= RANK[actor_role]
    assert response.status_code == (204 if allowed else 403)
    assert (target.email in members(tenant)) is not allowed


@pytest.mark.parametrize("role", ROLES)
def test_anyone_may_leave(tenant, role):
    me = person(tenant, role)
    assert jwt_client(me.email).delete(member_url(me)).status_code == 204
    assert me.email not in members(tenant)


def test_the_last_owner_can_be_neither_demoted_nor_removed(db):
    tenant = Tenant.objects.create(name="Solo", slug="acme")
    owner = person(tenant, " Owner ")  # legacy rows vary in case and blanks
    second = person(tenant, "owner")
    api = jwt_client(owner.email)

    assert api.patch(member_url(second), {"role": "admin"}, format="json").status_code == 200
    assert api.patch(member_url(owner), {"role": "admin"}, format="json").status_code == 409
    assert api.delete(member_url(owner)).status_code == 409
    assert members(tenant)[owner.email] == " Owner "
    # The demoted one cannot undo it: an admin makes no owner.
    again = jwt_client(second.email).patch(member_url(second), {"role": "owner"}, format="json")
    assert again.status_code == 403


def test_two_owners_cannot_both_step_down(db):
    tenant = Tenant.objects.create(name="Pair", slug="acme")
    first, second = person(tenant, "owner"), person(tenant, "owner")
    one = jwt_client(first.email).patch(member_url(first), {"role": "member"}, format="json")
    two = jwt_client(second.email).patch(member_url(second), {"role": "member"}, format="json")
    assert (one.status_code, two.status_code) == (200, 409)
    assert tenant_members._owners(tenant) == 1


def test_non_members_get_404_everywhere(tenant):
    outsider = person()
    inside = person(tenant, "member")
    api = jwt_client(outsider.email)
    assert api.get("/api/tenants/acme/users").status_code == 404
    assert (
        api.post(
            "/api/tenants/acme/users", {"email": "x@example.com", "role": "member"}, format="json"
        ).status_code
        == 404
    )
    assert api.patch(member_url(inside), {"role": "readonly"}, format="json").status_code == 404
    assert api.delete(member_url(inside)).status_code == 404
    assert api.get("/api/tenants/acme/invitations").status_code == 404
    assert api.get("/api/tenants/nowhere/users").status_code == 404


def test_a_target_outside_the_tenant_is_404(tenant):
    owner = person(tenant, "owner")
    outsider = person()
    api = jwt_client(owner.email)
    assert api.patch(member_url(outsider), {"role": "member"}, format="json").status_code == 404
    assert api.delete("/api/tenants/acme/users/nobody@example.com").status_code == 404


def test_unknown_roles_are_refused(tenant):
    owner = person(tenant, "owner")
    response = jwt_client(owner.email).post(
        "/api/tenants/acme/users", {"email": person().email, "role": "superowner"}, format="json"
    )
    assert response.status_code == 400


def test_adding_a_member_twice_is_409(tenant):
    owner = person(tenant, "owner")
    member = person(tenant, "member")
    response = jwt_client(owner.email).post(
        "/api/tenants/acme/users", {"email": member.email.upper(), "role": "admin"}, format="json"
    )
    assert response.status_code == 409
    assert members(tenant)[member.email] == "member"


def test_a_member_lists_their_tenants(tenant):
    me = person(tenant, "readonly")
    other = Tenant.objects.create(name="Other", slug="other")
    Membership.objects.create(tenant=other, user=me, role="admin")
    Tenant.objects.create(name="Not mine", slug="zzz")
    Tenant.objects.filter(slug="other").update(is_active=True)
    response = jwt_client(me.email).get("/api/tenants")
    assert response.status_code == 200
    assert response.json() == [
        {"slug": "acme", "name": "Acme", "role": "readonly"},
        {"slug": "other", "name": "Other", "role": "admin"},
    ]


# --- invitations --------------------------------------------------------------------------


def invite(actor: User, email: str, role: str):
    return jwt_client(actor.email).post(
        "/api/tenants/acme/users", {"email": email, "role": role}, format="json"
    )


def sign_up_and_verify(email: str) -> User:
    client().post("/api/auth/signup", {"email": email, "password": PASSWORD}, format="json")
    token = last_token(email.strip().lower(), "verify-email")
    assert client().post("/api/auth/verify", {"token": token}, format="json").status_code == 200
    return User.objects.get_by_natural_key(email)


def test_an_invitation_leads_to_sign_up_and_grants_its_role_after_verification(tenant):
    admin = person(tenant, "admin")
    response = invite(admin, "New.Person@example.com", "member")
    assert response.status_code == 202
    assert response.json()["role"] == "member"
    from django.core import mail

    [letter] = [m for m in mail.outbox if "New.Person@example.com" in m.to]
    assert "Acme" in letter.body and "/signup?email=" in letter.body

    client().post(
        "/api/auth/signup", {"email": "new.person@example.com", "password": PASSWORD}, format="json"
    )
    user = User.objects.get(email="new.person@example.com")
    assert user.email not in members(tenant)  # not before the address is proven
    token = last_token("new.person@example.com", "verify-email")
    client().post("/api/auth/verify", {"token": token}, format="json")

    assert members(tenant)[user.email] == "member"
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == user
    assert list(
        MembershipChange.objects.filter(tenant=tenant)
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["invited", "invitation_accepted"]


def test_an_invitation_is_used_once(tenant):
    owner = person(tenant, "owner")
    invite(owner, "once@example.com", "admin")
    user = sign_up_and_verify("once@example.com")
    jwt_client(owner.email).delete(member_url(user))

    assert tenant_members.accept_invitations(user) == []
    assert user.email not in members(tenant)


def test_a_squatted_account_gets_nothing_until_the_owner_proves_the_address(tenant):
    """Someone signs up with the invitee's address first: an invitation, not a membership,
    and it goes to whoever proves the mailbox."""
    owner = person(tenant, "owner")
    client().post("/api/auth/signup", {"email": "target@example.com", "password": PASSWORD})
    squatter = jwt_client("target@example.com")

    assert invite(owner, "target@example.com", "admin").status_code == 202
    assert "target@example.com" not in members(tenant)
    assert squatter.get("/api/tenants/acme/users").status_code == 404

    client().post("/api/auth/password/forgot", {"email": "target@example.com"}, format="json")
    token = last_token("target@example.com", "reset-password")
    client().post(
        "/api/auth/password/reset",
        {"token": token, "new_password": "the owner's own passphrase"},
        format="json",
    )
    assert members(tenant)["target@example.com"] == "admin"
    assert squatter.get("/api/tenants/acme/users").status_code == 401


def test_an_unverified_existing_account_is_invited_not_added(tenant):
    owner = person(tenant, "owner")
    unverified = person(verified=False)
    assert invite(owner, unverified.email, "member").status_code == 202
    assert unverified.email not in members(tenant)


def test_an_expired_invitation_grants_nothing(tenant):
    owner = person(tenant, "owner")
    invite(owner, "late@example.com", "member")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    user = sign_up_and_verify("late@example.com")
    assert user.email not in members(tenant)


def test_an_invitation_dies_with_the_inviters_right_to_grant_it(tenant):
    owner = person(tenant, "owner")
    admin = person(tenant, "admin")
    invite(admin, "demoted@example.com", "admin")
    jwt_client(owner.email).patch(member_url(admin), {"role": "member"}, format="json")
    user = sign_up_and_verify("demoted@example.com")
    assert user.email not in members(tenant)


def test_a_newer_invitation_replaces_an_older_one(tenant):
    owner = person(tenant, "owner")
    invite(owner, "twice@example.com", "admin")
    invite(owner, "TWICE@example.com", "readonly")
    user = sign_up_and_verify("twice@example.com")
    assert members(tenant)[user.email] == "readonly"


def test_managers_list_waiting_invitations(tenant):
    owner = person(tenant, "owner")
    member = person(tenant, "member")
    invite(owner, "wait@example.com", "member")
    response = jwt_client(owner.email).get("/api/tenants/acme/invitations")
    assert [i["email"] for i in response.json()] == ["wait@example.com"]
    assert jwt_client(member.email).get("/api/tenants/acme/invitations").status_code == 403


# --- the record ---------------------------------------------------------------------------


def test_changes_are_recorded_and_shown_in_the_admin(tenant):
    owner = person(tenant, "owner")
    target = person(tenant, "member")
    api = jwt_client(owner.email)
    api.patch(member_url(target), {"role": "admin"}, format="json")
    api.delete(member_url(target))

    change = MembershipChange.objects.filter(action="role_changed").get()
    assert (change.actor, change.actor_email, change.member_email) == (
        owner,
        owner.email,
        target.email,
    )
    assert (change.old_role, change.new_role) == ("member", "admin")
    assert change.at <= timezone.now()

    User.objects.create_superuser("root@example.com", PASSWORD)
    browser = Client()
    browser.force_login(User.objects.get(email="root@example.com"))
    page = browser.get("/admin/accounts/membershipchange/")
    assert page.status_code == 200
    assert target.email in page.content.decode()
    detail = browser.get(f"/admin/accounts/membershipchange/{change.pk}/change/")
    assert detail.status_code == 200
    assert browser.get("/admin/accounts/invitation/").status_code == 200
    assert browser.get("/admin/accounts/membershipchange/add/").status_code == 403


def test_a_key_needs_the_write_scope_to_manage_members(tenant):
    from accounts.api.authentication import generate_token
    from accounts.models import ApiKey

    owner = person(tenant, "owner")
    token, prefix, digest = generate_token()
    ApiKey.objects.create(user=owner, name="r", prefix=prefix, digest=digest, scopes="read")
    response = as_bearer(token).post(
        "/api/tenants/acme/users", {"email": person().email, "role": "member"}, format="json"
    )
    assert response.status_code == 403
