"""Tenant RBAC: a tenant's data is for its members, by the role they hold there.

Only a Membership counts: superusers and staff get no way into a tenant they are not a
member of, so what the API shows never depends on who runs the admin.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.api import scopes
from accounts.api.request_state import (
    authenticated_user,
    remember_tenant_membership,
    tenant_membership_of,
)
from accounts.models import ApiKey, Membership

OWNER, ADMIN, MEMBER, READONLY = "owner", "admin", "member", "readonly"
# Every role that may read a tenant's member list.
READ_ROLES = (OWNER, ADMIN, MEMBER, READONLY)
# Roles that may change a tenant's members (for write endpoints).
MANAGE_ROLES = (OWNER, ADMIN)


def tenant_membership(request: Request, slug: str) -> Membership | None:
    """The requesting user's membership of the active tenant ``slug``, or None."""
    return (
        Membership.objects.select_related("tenant")
        .filter(user=authenticated_user(request), tenant__slug=slug, tenant__is_active=True)
        .first()
    )


class IsTenantMember(BasePermission):
    """The user is a member of the tenant named by the URL's ``slug``.

    Anyone else gets 404, the answer for a tenant that does not exist, so slugs cannot be
    probed. The membership is kept for the view (``request_state.tenant_membership_of``).
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF turns this into 401
        membership = tenant_membership(request, view.kwargs["slug"])
        if membership is None:
            raise NotFound()
        remember_tenant_membership(request, membership)
        return True


class _TenantRolePermission(IsTenantMember):
    roles: frozenset[str] = frozenset()
    message = "Your role in this tenant does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        # The member knows the tenant exists, so a role too low is a plain 403.
        return tenant_membership_of(request).role.strip().lower() in self.roles


def HasTenantRole(*roles: str) -> type[BasePermission]:  # noqa: N802
    """A permission class: member of the URL's tenant holding one of ``roles``.

    Named like a class because it stands where one does, e.g.
    ``permission_classes = [IsAuthenticated, HasTenantRole(*MANAGE_ROLES)]``.
    Roles compare without regard to case or surrounding spaces, as legacy rows vary.
    """
    allowed = frozenset(role.strip().lower() for role in roles)
    name = "HasTenantRole_" + "_".join(sorted(allowed))
    return type(name, (_TenantRolePermission,), {"roles": allowed})


class NewKeysNeedALogin(BasePermission):
    """Creating an API key takes a password login (a JWT), not another API key, and asks
    only for scopes the API knows.

    Otherwise a scoped or soon-expiring key, or one about to be revoked in the old
    service, could mint an unscoped key that never expires and outlives it. A key asking
    for a scope the API does not know would look scoped and be able to do nothing
    (``accounts.api.scopes``): refused with 400 instead.
    """

    message = "Create API keys after logging in with a password (a JWT), not with an API key."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method != "POST":
            return True
        if isinstance(request.auth, ApiKey):
            return False
        requested = request.data.get("scopes") if hasattr(request.data, "get") else None
        if hasattr(request.data, "getlist") and not isinstance(requested, list):
            requested = request.data.getlist("scopes")  # a form post repeats the field
        if isinstance(requested, list) and all(isinstance(name, str) for name in requested):
            if unknown := scopes.unknown(requested):
                raise ValidationError(
                    {
                        "scopes": [
                            f"Unknown scope {name!r}; the API knows "
                            f"{', '.join(sorted(scopes.KNOWN))} (and * for admin)."
                            for name in unknown
                        ]
                    }
                )
        return True
