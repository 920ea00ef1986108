"""fastapi-users' routes, answered by authcore: a service moves by changing its base URL.

Under ``/fu_auth/``, as the old service mounted them: ``jwt/login`` and ``jwt/logout``
(the JWT backend's auth router), ``register``, ``forgot-password``, ``reset-password``,
``request-verify-token``, ``verify`` and ``users/me``. Bodies, status codes and error
codes are fastapi-users' documented ones (``{"detail": "LOGIN_BAD_CREDENTIALS"}``,
``{"detail": {"code": ..., "reason": ...}}``, 422 with FastAPI's ``detail`` list).

The work is done by the same flows as /api's. Where fastapi-users is laxer, authcore
keeps its own rules: a login counts toward the lockout (429 once locked), a token logged
out is refused at once (accounts.api.jwt), ``PATCH users/me`` changes a password only
with a JWT (never with an API key) and never changes the address (the copy matches people
by address), and is_active, is_superuser and is_verified are never taken from a body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken, Token

from accounts.api import jwt
from accounts.api.account_serializers import PASSWORD_MAX_LENGTH
from accounts.api.account_views import locked_out
from accounts.api.request_state import authenticated_user
from accounts.api.throttles import ACCOUNT_SCOPE, AccountRateThrottle
from accounts.flows import events, password_reset, signup, verification
from accounts.flows.accounts import find_account
from accounts.models import ApiKey, User
from accounts.throttling import LoginRateThrottle
from authcore.lib.emails import email_key

LOGIN_BAD_CREDENTIALS = "LOGIN_BAD_CREDENTIALS"
REGISTER_USER_ALREADY_EXISTS = "REGISTER_USER_ALREADY_EXISTS"
REGISTER_INVALID_PASSWORD = "REGISTER_INVALID_PASSWORD"
RESET_PASSWORD_BAD_TOKEN = "RESET_PASSWORD_BAD_TOKEN"
RESET_PASSWORD_INVALID_PASSWORD = "RESET_PASSWORD_INVALID_PASSWORD"
VERIFY_USER_BAD_TOKEN = "VERIFY_USER_BAD_TOKEN"
VERIFY_USER_ALREADY_VERIFIED = "VERIFY_USER_ALREADY_VERIFIED"
UPDATE_USER_INVALID_PASSWORD = "UPDATE_USER_INVALID_PASSWORD"
# Not one of fastapi-users' codes: authcore does not change an account's address.
UPDATE_USER_EMAIL_NOT_ALLOWED = "UPDATE_USER_EMAIL_NOT_ALLOWED"
REGISTER_CLOSED = "REGISTER_CLOSED"


# Serializers: fastapi-users' schemas (BaseUser, BaseUserCreate, BaseUserUpdate, ...).


class UserReadSerializer(serializers.ModelSerializer[User]):
    """fastapi-users' ``BaseUser``."""

    is_superuser = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "is_active", "is_superuser", "is_verified"]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer[dict[str, Any]]):
    """fastapi-users' ``BaseUserCreate``; the flags are accepted and ignored (``safe``)."""

    email = serializers.EmailField()
    password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)
    is_active = serializers.BooleanField(required=False, allow_null=True)
    is_superuser = serializers.BooleanField(required=False, allow_null=True)
    is_verified = serializers.BooleanField(required=False, allow_null=True)


class UserUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    """fastapi-users' ``BaseUserUpdate``; the flags are accepted and ignored (``safe``)."""

    password = serializers.CharField(
        required=False, allow_null=True, max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False
    )
    email = serializers.EmailField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False, allow_null=True)
    is_superuser = serializers.BooleanField(required=False, allow_null=True)
    is_verified = serializers.BooleanField(required=False, allow_null=True)


class LoginFormSerializer(serializers.Serializer[dict[str, Any]]):
    """OAuth2PasswordRequestForm: ``username`` (the address) and ``password``."""

    username = serializers.CharField(max_length=1000, trim_whitespace=False)
    password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)
    grant_type = serializers.CharField(required=False, allow_blank=True)
    scope = serializers.CharField(required=False, allow_blank=True)
    client_id = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    client_secret = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class EmailBodySerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField()


class TokenBodySerializer(serializers.Serializer[dict[str, Any]]):
    token = serializers.CharField()


class ResetBodySerializer(serializers.Serializer[dict[str, Any]]):
    token = serializers.CharField()
    password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


BEARER = inline_serializer(
    "BearerResponse",
    fields={"access_token": serializers.CharField(), "token_type": serializers.CharField()},
)
ERROR_MODEL = inline_serializer(
    "FastAPIUsersError",
    fields={"detail": serializers.JSONField(help_text="An error code, or {code, reason}.")},
)
VALIDATION_ERROR = inline_serializer(
    "HTTPValidationError",
    fields={"detail": serializers.ListField(child=serializers.DictField())},
)
NULL: dict[str, Any] = {"type": "object", "nullable": True, "description": "null"}
ERRORS_400 = OpenApiResponse(ERROR_MODEL, description="fastapi-users' error codes.")
ERRORS_422 = OpenApiResponse(VALIDATION_ERROR, description="Validation error (FastAPI's).")


# Answers.


def detail(code: Any, status_code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": code}, status=status_code)


def reason(code: str, exc: DjangoValidationError) -> Response:
    """``{"detail": {"code": ..., "reason": ...}}`` for a password the validators refuse."""
    return detail({"code": code, "reason": " ".join(exc.messages)})


def null(status_code: int) -> HttpResponse:
    """FastAPI's answer for a route that returns None: the JSON ``null``."""
    return HttpResponse(b"null", status=status_code, content_type="application/json")


def unprocessable(errors: dict[str, Any]) -> Response:
    """422 in FastAPI's shape, from a serializer's errors."""
    items = []
    for field, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            missing = getattr(message, "code", "") == "required"
            items.append(
                {
                    "type": "missing" if missing else "value_error",
                    "loc": ["body", field],
                    "msg": "Field required" if missing else str(message),
                }
            )
    return Response({"detail": items}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


class FastAPIUsersView(APIView):
    """A body FastAPI could not read is its 422, not DRF's 400 or 415."""

    parser_classes: Sequence[type[BaseParser]] = (JSONParser,)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, (exceptions.ParseError, exceptions.UnsupportedMediaType)):
            return Response(
                {"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}]},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return super().handle_exception(exc)

    def read(
        self, serializer_class: type[serializers.Serializer[dict[str, Any]]]
    ) -> dict[str, Any] | Response:
        data = self.request.data
        if not hasattr(data, "get"):
            return unprocessable({"body": ["Input should be a valid dictionary"]})
        serializer = serializer_class(data=data)
        if not serializer.is_valid():
            return unprocessable(serializer.errors)
        return dict(serializer.validated_data)


class AnonymousView(FastAPIUsersView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes: Sequence[type[BaseThrottle]] = (AccountRateThrottle,)
    throttle_scope = ACCOUNT_SCOPE


class LoginView(AnonymousView):
    """``POST /fu_auth/jwt/login``: the address and password as a form, for a bearer JWT."""

    parser_classes = (FormParser, MultiPartParser, JSONParser)
    throttle_classes = (LoginRateThrottle,)
    throttle_scope = "login"

    @extend_schema(
        request={"application/x-www-form-urlencoded": LoginFormSerializer},
        responses={200: BEARER, 400: ERRORS_400, 422: ERRORS_422},
    )
    def post(self, request: Request) -> Response:
        data = self.read(LoginFormSerializer)
        if isinstance(data, Response):
            return data
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            locked = locked_out(request)
            if locked is not None:
                raise locked
            return detail(LOGIN_BAD_CREDENTIALS)
        events.log_event(events.LOGIN_SUCCEEDED, user_id=user.pk, via="fu_auth")
        return Response({"access_token": str(AccessToken.for_user(user)), "token_type": "bearer"})


class LogoutView(FastAPIUsersView):
    """``POST /fu_auth/jwt/logout``: the access token it is called with stops working."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            jwt.end_access_token(request.auth)
        events.log_event(events.LOGGED_OUT, user_id=request.user.pk, via="fu_auth")
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterView(AnonymousView):
    """``POST /fu_auth/register``: a new, unverified account (400 if the address is taken)."""

    @extend_schema(
        request=UserCreateSerializer,
        responses={
            201: UserReadSerializer,
            400: ERRORS_400,
            403: OpenApiResponse(ERROR_MODEL, description="Sign-up is closed."),
            422: ERRORS_422,
        },
    )
    def post(self, request: Request) -> Response:
        if not settings.REGISTRATION_OPEN:
            return detail(REGISTER_CLOSED, status.HTTP_403_FORBIDDEN)
        data = self.read(UserCreateSerializer)
        if isinstance(data, Response):
            return data
        try:
            user = signup.register(data["email"], data["password"])
        except signup.AlreadyExists:
            return detail(REGISTER_USER_ALREADY_EXISTS)
        except signup.RegistrationClosed:
            return detail(REGISTER_CLOSED, status.HTTP_403_FORBIDDEN)
        except DjangoValidationError as exc:
            if exc.error_list[0].code == "invalid_email":
                return unprocessable({"email": ["value is not a valid email address"]})
            return reason(REGISTER_INVALID_PASSWORD, exc)
        return Response(UserReadSerializer(user).data, status=status.HTTP_201_CREATED)


class ForgotPasswordView(AnonymousView):
    """``POST /fu_auth/forgot-password``: 202 whatever the address."""

    @extend_schema(request=EmailBodySerializer, responses={202: NULL, 422: ERRORS_422})
    def post(self, request: Request) -> HttpResponse:
        data = self.read(EmailBodySerializer)
        if isinstance(data, Response):
            return data
        password_reset.request_reset(data["email"])
        return null(status.HTTP_202_ACCEPTED)


class ResetPasswordView(AnonymousView):
    """``POST /fu_auth/reset-password``: a new password with the emailed token."""

    @extend_schema(
        request=ResetBodySerializer, responses={200: NULL, 400: ERRORS_400, 422: ERRORS_422}
    )
    def post(self, request: Request) -> HttpResponse:
        data = self.read(ResetBodySerializer)
        if isinstance(data, Response):
            return data
        try:
            password_reset.reset(data["token"], data["password"])
        except password_reset.BadToken:
            return detail(RESET_PASSWORD_BAD_TOKEN)
        except DjangoValidationError as exc:
            return reason(RESET_PASSWORD_INVALID_PASSWORD, exc)
        return null(status.HTTP_200_OK)


class RequestVerifyTokenView(AnonymousView):
    """``POST /fu_auth/request-verify-token``: 202 whatever the address."""

    @extend_schema(request=EmailBodySerializer, responses={202: NULL, 422: ERRORS_422})
    def post(self, request: Request) -> HttpResponse:
        data = self.read(EmailBodySerializer)
        if isinstance(data, Response):
            return data
        verification.request_verification(data["email"])
        return null(status.HTTP_202_ACCEPTED)


class VerifyView(AnonymousView):
    """``POST /fu_auth/verify``: the account, verified."""

    @extend_schema(
        request=TokenBodySerializer,
        responses={200: UserReadSerializer, 400: ERRORS_400, 422: ERRORS_422},
    )
    def post(self, request: Request) -> Response:
        data = self.read(TokenBodySerializer)
        if isinstance(data, Response):
            return data
        try:
            user = verification.verify(data["token"])
        except verification.AlreadyVerified:
            return detail(VERIFY_USER_ALREADY_VERIFIED)
        except verification.BadToken:
            return detail(VERIFY_USER_BAD_TOKEN)
        return Response(UserReadSerializer(user).data)


class UsersMeView(FastAPIUsersView):
    """``GET``/``PATCH /fu_auth/users/me``: the caller; PATCH may set a new password."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: UserReadSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserReadSerializer(authenticated_user(request)).data)

    @extend_schema(
        request=UserUpdateSerializer,
        responses={200: UserReadSerializer, 400: ERRORS_400, 422: ERRORS_422},
    )
    def patch(self, request: Request) -> Response:
        data = self.read(UserUpdateSerializer)
        if isinstance(data, Response):
            return data
        user = authenticated_user(request)
        email, password = data.get("email"), data.get("password")
        if email is not None and email_key(email) != email_key(user.email):
            return detail(
                {
                    "code": UPDATE_USER_EMAIL_NOT_ALLOWED,
                    "reason": "The address of an account cannot be changed here.",
                }
            )
        if password is not None:
            if isinstance(request.auth, ApiKey):
                raise exceptions.PermissionDenied(
                    "Change the password after logging in with it (a JWT), not with an API key."
                )
            try:
                signup.check_password(password, user.email, user.full_name)
            except DjangoValidationError as exc:
                return reason(UPDATE_USER_INVALID_PASSWORD, exc)
            password_reset.set_password(user, password)
            events.log_event(events.PASSWORD_CHANGED, user_id=user.pk, via="fu_auth")
            password_reset.notify_changed(user)
        return Response(UserReadSerializer(find_account(user.email) or user).data)
