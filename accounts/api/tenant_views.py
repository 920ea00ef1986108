"""Tenant members over HTTP: one's own tenants, adding, re-roling and removing members.

Who may do what is decided by accounts/flows/tenant_members.py; the views only turn its
answers into status codes. A tenant the caller is not a member of is a 404, as for the
member list.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.account_serializers import (
    InvitationSerializer,
    TenantAddSerializer,
    TenantRoleChangeSerializer,
)
from accounts.api.permissions import MANAGE_ROLES, READ_ROLES, HasTenantRole, IsTenantMember
from accounts.api.request_state import authenticated_user, tenant_membership_of
from accounts.api.serializers import TenantMemberSerializer, TenantRoleSerializer
from accounts.flows import tenant_members
from accounts.flows.accounts import find_account
from accounts.membership_models import Invitation
from accounts.models import Membership


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The change conflicts with the tenant's current members."
    default_code = "conflict"


def flow_errors(exc: Exception) -> exceptions.APIException:
    """The HTTP answer for a refusal of tenant_members."""
    if isinstance(exc, tenant_members.NotAllowed):
        return exceptions.PermissionDenied(
            _(
                "Your role does not allow this: nobody grants a role above their own, or "
                "changes a member whose role is above theirs."
            )
        )
    if isinstance(exc, tenant_members.LastOwner):
        return Conflict(_("A tenant keeps at least one owner."))
    if isinstance(exc, tenant_members.AlreadyMember):
        return Conflict(_("That account is a member already."))
    return exceptions.NotFound()


class MyTenantsView(generics.ListAPIView[Membership]):
    """The active tenants the caller belongs to, with their role in each."""

    serializer_class = TenantRoleSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return (
            Membership.objects.filter(user=authenticated_user(self.request), tenant__is_active=True)
            .select_related("tenant")
            .order_by("tenant__slug")
        )


class TenantUsersView(generics.ListAPIView[Membership]):
    """The members of a tenant, for its members only (others get 404). Owners and
    admins add one by address (POST): a verified account is added (201), any other
    address is invited (202) and joins once it has signed up and verified it."""

    serializer_class = TenantMemberSerializer
    pagination_class = None

    def get_permissions(self) -> list[Any]:
        roles = MANAGE_ROLES if self.request.method == "POST" else READ_ROLES
        return [IsAuthenticated(), HasTenantRole(*roles)()]

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return Membership.objects.none()
        return (
            Membership.objects.filter(tenant=tenant_membership_of(self.request).tenant)
            .select_related("user")
            .order_by("user__email")
        )

    @extend_schema(
        request=TenantAddSerializer,
        responses={
            201: TenantMemberSerializer,
            202: InvitationSerializer,
            409: OpenApiResponse(description="The account is a member already."),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = TenantAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tenant = tenant_membership_of(request).tenant
        try:
            added = tenant_members.add(
                tenant, authenticated_user(request), data["email"], data["role"]
            )
        except (
            tenant_members.NotAllowed,
            tenant_members.AlreadyMember,
            tenant_members.NotFound,
        ) as exc:
            raise flow_errors(exc) from exc
        if added.membership is not None:
            return Response(
                TenantMemberSerializer(added.membership).data, status=status.HTTP_201_CREATED
            )
        return Response(
            InvitationSerializer(added.invitation).data, status=status.HTTP_202_ACCEPTED
        )


class TenantMemberView(APIView):
    """One member of a tenant, named by their address: PATCH changes their role, DELETE
    removes them (any member may remove themselves)."""

    permission_classes = (IsAuthenticated, IsTenantMember)

    def _member_id(self, request: Request, email: str) -> int:
        user = find_account(email)
        if user is None:
            raise exceptions.NotFound()
        return user.pk

    @extend_schema(
        request=TenantRoleChangeSerializer,
        responses={
            200: TenantMemberSerializer,
            409: OpenApiResponse(description="It would leave the tenant without an owner."),
        },
    )
    def patch(self, request: Request, slug: str, email: str) -> Response:
        serializer = TenantRoleChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = tenant_membership_of(request).tenant
        try:
            membership = tenant_members.change_role(
                tenant,
                authenticated_user(request),
                self._member_id(request, email),
                serializer.validated_data["role"],
            )
        except (
            tenant_members.NotAllowed,
            tenant_members.LastOwner,
            tenant_members.NotFound,
        ) as exc:
            raise flow_errors(exc) from exc
        return Response(TenantMemberSerializer(membership).data)

    @extend_schema(
        request=None,
        responses={
            204: None,
            409: OpenApiResponse(description="It would leave the tenant without an owner."),
        },
    )
    def delete(self, request: Request, slug: str, email: str) -> Response:
        tenant = tenant_membership_of(request).tenant
        try:
            tenant_members.remove(
                tenant, authenticated_user(request), self._member_id(request, email)
            )
        except (
            tenant_members.NotAllowed,
            tenant_members.LastOwner,
            tenant_members.NotFound,
        ) as exc:
            raise flow_errors(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class TenantInvitationsView(generics.ListAPIView[Invitation]):
    """The tenant's invitations not yet accepted nor expired, for its owners and admins."""

    serializer_class = InvitationSerializer
    pagination_class = None
    permission_classes = (IsAuthenticated, HasTenantRole(*MANAGE_ROLES))

    def get_queryset(self) -> QuerySet[Invitation]:
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return Invitation.objects.filter(
            tenant=tenant_membership_of(self.request).tenant,
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("-created_at", "-pk")
