"""The account flows over HTTP: sign-up, verification, password reset and change, names.

Thin: each view reads its serializer, calls one flow (accounts/flows/) and answers. The
anonymous ones answer the same whether or not an address has an account, and all are
throttled per client like the login (AccountRateThrottle).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.account_serializers import (
    DetailSerializer,
    EmailSerializer,
    NamesSerializer,
    PasswordChangeSerializer,
    PasswordResetSerializer,
    SignUpSerializer,
    TokenSerializer,
)
from accounts.api.request_state import authenticated_user
from accounts.api.serializers import MeSerializer
from accounts.api.throttles import ACCOUNT_SCOPE, AccountRateThrottle
from accounts.flows import events, password_reset, signup, verification
from accounts.models import User

ACCEPTED = {"detail": "If the address can receive it, an email is on its way."}


def field_errors(field: str, exc: DjangoValidationError) -> exceptions.ValidationError:
    """Django's ValidationError (a password validator's) as DRF's 400 on ``field``."""
    return exceptions.ValidationError({field: list(exc.messages)})


def locked_out(request: Request) -> exceptions.Throttled | None:
    """The 429 for a request django-axes refused, else None."""
    if getattr(request, "axes_locked_out", False):
        return exceptions.Throttled(
            wait=settings.AXES_COOLOFF_TIME.total_seconds(),
            detail=_("Too many failed logins; try again later."),
        )
    return None


class AnonymousFlowView(APIView):
    """Base of the flows a person uses before they can log in: no credentials read."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AccountRateThrottle,)
    throttle_scope = ACCOUNT_SCOPE


class SignUpView(AnonymousFlowView):
    """Signs up with an address and a password: the address gets a link to verify it.

    The answer is the same whether or not the address already had an account (it gets
    an email saying so, and nothing about it changes). 403 when sign-up is closed.
    """

    @extend_schema(
        request=SignUpSerializer,
        responses={
            202: DetailSerializer,
            403: OpenApiResponse(DetailSerializer, description="Sign-up is closed."),
        },
    )
    def post(self, request: Request) -> Response:
        if not settings.REGISTRATION_OPEN:
            raise exceptions.PermissionDenied(_("Sign-up is closed."))
        data = self._valid(request.data)
        try:
            signup.sign_up(data["email"], data["password"], data.get("full_name"))
        except signup.RegistrationClosed as exc:
            raise exceptions.PermissionDenied(_("Sign-up is closed.")) from exc
        except DjangoValidationError as exc:
            field = "email" if exc.error_list[0].code == "invalid_email" else "password"
            raise field_errors(field, exc) from exc
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)

    def _valid(self, data: Any) -> dict[str, Any]:
        serializer = SignUpSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class VerificationRequestView(AnonymousFlowView):
    """Mails a new verification link to an unverified account (202 whatever the address)."""

    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer})
    def post(self, request: Request) -> Response:
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification.request_verification(serializer.validated_data["email"])
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)


class VerifyView(AnonymousFlowView):
    """Confirms an address with the token from its email."""

    @extend_schema(
        request=TokenSerializer,
        responses={
            200: DetailSerializer,
            400: OpenApiResponse(description="Bad, expired or used token, or already verified."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            verification.verify(serializer.validated_data["token"])
        except verification.AlreadyVerified as exc:
            raise exceptions.ValidationError(
                {"detail": _("This address is verified already.")}, code="already_verified"
            ) from exc
        except verification.BadToken as exc:
            raise exceptions.ValidationError(
                {"detail": _("This link is wrong, expired or used.")}, code="bad_token"
            ) from exc
        return Response({"detail": _("The address is verified.")})


class ForgotPasswordView(AnonymousFlowView):
    """Mails a password-reset link to the address's account (202 whatever the address)."""

    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer})
    def post(self, request: Request) -> Response:
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset.request_reset(serializer.validated_data["email"])
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)


class ResetPasswordView(AnonymousFlowView):
    """Sets a new password with the token from the reset email; every login ends."""

    @extend_schema(
        request=PasswordResetSerializer,
        responses={
            200: DetailSerializer,
            400: OpenApiResponse(description="Bad, expired or used token, or a weak password."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            password_reset.reset(data["token"], data["new_password"])
        except password_reset.BadToken as exc:
            raise exceptions.ValidationError(
                {"detail": _("This link is wrong, expired or used.")}, code="bad_token"
            ) from exc
        except DjangoValidationError as exc:
            raise field_errors("new_password", exc) from exc
        return Response({"detail": _("The password is changed; log in with it.")})


class ChangePasswordView(APIView):
    """The logged-in user's new password, given the old one; every login ends (log in
    again). Wrong old passwords count toward the login lockout."""

    throttle_classes = (AccountRateThrottle,)
    throttle_scope = ACCOUNT_SCOPE

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            password_reset.change(
                request, authenticated_user(request), data["old_password"], data["new_password"]
            )
        except password_reset.WrongPassword as exc:
            raise locked_out(request) or exceptions.ValidationError(
                {"old_password": [_("This is not your password.")]}
            ) from exc
        except DjangoValidationError as exc:
            raise field_errors("new_password", exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveUpdateAPIView[User]):
    """The user the request's token belongs to; PATCH changes their own names only."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> User:
        return authenticated_user(self.request)

    @extend_schema(request=NamesSerializer, responses=MeSerializer)
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = authenticated_user(request)
        names = NamesSerializer(user, data=request.data, partial=True)
        names.is_valid(raise_exception=True)
        changed = [f for f, v in names.validated_data.items() if getattr(user, f) != v]
        if changed:
            for field in changed:
                setattr(user, field, names.validated_data[field] or None)
            user.save(update_fields=changed)
            events.log_event(events.PROFILE_CHANGED, user_id=user.pk, fields=changed)
        return Response(MeSerializer(user).data)
