"""What a view may take from a request once its permissions ran, typed for the checker.

DRF's ``request.user`` is a ``User`` or an ``AnonymousUser``; behind IsAuthenticated it
is always the former, and these helpers say so in one place instead of a cast per view.
The tenant membership IsTenantMember found is kept on the request under one name and read
back through a typed accessor, so no view touches an undeclared attribute.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.request import Request

from accounts.models import Membership, User

_MEMBERSHIP_ATTRIBUTE = "tenant_membership"


def authenticated_user(request: Request) -> User:
    """The logged-in user of a request IsAuthenticated let through; 401 for anyone else."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise exceptions.NotAuthenticated()
    return user


def remember_tenant_membership(request: Request, membership: Membership) -> None:
    """Keeps the membership a tenant permission found, for the view that follows."""
    setattr(request, _MEMBERSHIP_ATTRIBUTE, membership)


def tenant_membership_of(request: Request) -> Membership:
    """The membership IsTenantMember kept; only views behind that permission call this."""
    membership = getattr(request, _MEMBERSHIP_ATTRIBUTE, None)
    if not isinstance(membership, Membership):
        # Reached only by a view that forgot the permission: refuse rather than guess.
        raise exceptions.NotFound()
    return membership
