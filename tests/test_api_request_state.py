"""The typed request helpers refuse rather than guess: no user, no tenant, no way in."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from accounts.api.request_state import (
    authenticated_user,
    remember_tenant_membership,
    tenant_membership_of,
)
from accounts.models import Membership, Tenant
from tests.account_helpers import make_user


def _request(user: object | None = None) -> Request:
    django_request = APIRequestFactory().get("/api/tenants/acme/users/")
    if user is not None:
        force_authenticate(django_request, user=user)
    return Request(django_request)


def test_an_anonymous_caller_is_not_taken_for_a_user(db) -> None:
    request = _request(AnonymousUser())
    with pytest.raises(exceptions.NotAuthenticated):
        authenticated_user(request)


def test_a_logged_in_caller_is_their_user(db) -> None:
    user = make_user("state@example.com")
    assert authenticated_user(_request(user)) == user


def test_no_membership_kept_is_a_404_not_another_tenant(db) -> None:
    request = _request()
    with pytest.raises(exceptions.NotFound):
        tenant_membership_of(request)
    # A look-alike set by hand is not a membership either.
    request.tenant_membership = "acme"  # type: ignore[attr-defined]  # the attacker's guess
    with pytest.raises(exceptions.NotFound):
        tenant_membership_of(request)


def test_the_kept_membership_is_read_back(db) -> None:
    user = make_user("member@example.com")
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    membership = Membership.objects.create(tenant=tenant, user=user, role="member")
    request = _request(user)
    remember_tenant_membership(request, membership)
    assert tenant_membership_of(request) == membership
