"""Thin views: authentication and permissions decide who, serializers shape what."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from accounts import tokens
from accounts.api import health
from accounts.api.permissions import NewKeysNeedALogin
from accounts.api.request_state import authenticated_user
from accounts.api.serializers import (
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    DetailedHealthSerializer,
    HealthSerializer,
    LoginSerializer,
    LogoutSerializer,
    RefreshSerializer,
)
from accounts.models import ApiKey
from accounts.throttling import LoginRateThrottle


class HealthView(APIView):
    """For load balancers: no credentials, no database."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(responses=HealthSerializer)
    def get(self, request: Request) -> Response:
        return Response(HealthSerializer({"status": health.HEALTHY}).data)


class DetailedHealthView(APIView):
    """For operators: database, pending migrations and the last legacy copy (token needed)."""

    @extend_schema(responses={200: DetailedHealthSerializer, 503: DetailedHealthSerializer})
    def get(self, request: Request) -> Response:
        report = health.detailed_report()
        code = status.HTTP_200_OK if report["status"] == health.HEALTHY else 503
        return Response(DetailedHealthSerializer(report).data, status=code)


class ApiKeyListCreateView(generics.ListCreateAPIView[ApiKey]):
    """The requesting user's keys; POST makes one and shows its token this once."""

    permission_classes = (IsAuthenticated, NewKeysNeedALogin)

    def get_queryset(self) -> QuerySet[ApiKey]:
        return ApiKey.objects.of(authenticated_user(self.request)).order_by("-created_at", "-pk")

    def get_serializer_class(self) -> type[BaseSerializer[ApiKey]]:
        return ApiKeyCreateSerializer if self.request.method == "POST" else ApiKeySerializer


class ApiKeyRevokeView(generics.GenericAPIView[ApiKey]):
    """Revokes one of the requesting user's keys; another user's key is a 404."""

    serializer_class = ApiKeySerializer

    def get_queryset(self) -> QuerySet[ApiKey]:
        return ApiKey.objects.of(authenticated_user(self.request))

    @extend_schema(request=None, responses=ApiKeySerializer)
    def post(self, request: Request, pk: int) -> Response:
        key = self.get_object()
        if key.revoked_at is None or key.is_active:
            # Revoking twice keeps the first time.
            key.revoked_at = key.revoked_at or timezone.now()
            key.is_active = False
            key.save(update_fields=["revoked_at", "is_active"])
        return Response(self.get_serializer(key).data)


class LoginView(TokenObtainPairView):
    """Email + password for an access and a refresh token.

    simplejwt's own view (email is USERNAME_FIELD, and django.contrib.auth.authenticate
    ignores letter case, upgrades legacy hashes and counts failures for django-axes),
    throttled against password guessing. A locked-out account or address gets 429.
    """

    serializer_class = LoginSerializer
    throttle_classes = [LoginRateThrottle]
    throttle_scope = "login"

    def handle_exception(self, exc: Exception) -> Response:
        # django-axes flags the request it was handed (DRF's), so its middleware, which
        # sees Django's request, cannot answer for it: the view does.
        if getattr(self.request, "axes_locked_out", False):
            exc = exceptions.Throttled(
                wait=settings.AXES_COOLOFF_TIME.total_seconds(),
                detail=_("Too many failed logins; try again later."),
            )
        return super().handle_exception(exc)


class RefreshView(TokenRefreshView):
    """A new access token (and, rotated, a new refresh token) for a refresh token."""

    serializer_class = RefreshSerializer


class LogoutView(TokenBlacklistView):
    """Blacklists the refresh token, so it can no longer be refreshed."""

    serializer_class = LogoutSerializer


class LogoutEverywhereView(APIView):
    """Ends every refresh token of the caller (every device, every login)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        tokens.end_refresh_tokens_of([request.user.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)
