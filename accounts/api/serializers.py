"""What the API reads and writes. The digest of a key is never among it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)

from accounts import tokens
from accounts.api.authentication import generate_token
from accounts.flows import events
from accounts.models import ApiKey, Membership, User


class HealthSerializer(serializers.Serializer[dict[str, Any]]):
    """The load balancer's answer."""

    status = serializers.CharField()


class MigrationsSerializer(serializers.Serializer[dict[str, Any]]):
    applied = serializers.BooleanField(help_text="True when no migration is pending.")
    pending = serializers.ListField(child=serializers.CharField())


class CopyRunSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    outcome = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    trigger = serializers.CharField()


class DetailedHealthSerializer(HealthSerializer):
    """Database, migrations and the latest legacy copy run (null before the first)."""

    database = serializers.CharField()
    migrations = MigrationsSerializer(allow_null=True)
    legacy_copy = CopyRunSerializer(allow_null=True)
    timestamp = serializers.DateTimeField()


class TenantRoleSerializer(serializers.ModelSerializer[Membership]):
    """A tenant the user belongs to, and their role there."""

    slug = serializers.CharField(source="tenant.slug")
    name = serializers.CharField(source="tenant.name")

    class Meta:
        model = Membership
        fields = ["slug", "name", "role"]


class MeSerializer(serializers.ModelSerializer[User]):
    """The authenticated user, as they may see themselves."""

    groups: serializers.SlugRelatedField[Group] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    tenants = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "username", "full_name", "is_verified", "groups", "tenants"]
        read_only_fields = fields

    @extend_schema_field(TenantRoleSerializer(many=True))
    def get_tenants(self, user: User) -> list[dict[str, Any]]:
        memberships = (
            user.memberships.filter(tenant__is_active=True)
            .select_related("tenant")
            .order_by("tenant__slug")
        )
        # many=True makes a ListSerializer, whose data is a list; the stubs type it a dict.
        return TenantRoleSerializer(memberships, many=True).data  # type: ignore[return-value]


class TenantMemberSerializer(serializers.ModelSerializer[Membership]):
    """A member of a tenant, as the other members see them."""

    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name", allow_null=True)

    class Meta:
        model = Membership
        fields = ["email", "full_name", "role"]


class ScopesField(serializers.ListField):
    """Scopes as a list; stored comma-separated, as the legacy services stored them."""

    child = serializers.CharField(max_length=100)

    # The stubs fix a ListField's stored value to a list; this one's is the comma string.
    def to_representation(self, data: str | None) -> list[str]:  # type: ignore[override]
        return [scope.strip() for scope in (data or "").split(",") if scope.strip()]

    # Likewise: what is stored is the comma string, not the list the stubs expect.
    def to_internal_value(self, data: Any) -> str | None:  # type: ignore[override]
        scopes = [scope.strip() for scope in super().to_internal_value(data)]
        if any("," in scope for scope in scopes):
            raise serializers.ValidationError("A scope cannot contain a comma.")
        return ",".join(scope for scope in scopes if scope) or None


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    """A key as its owner sees it later: everything but the token and its digest."""

    scopes = ScopesField(required=False)

    def to_representation(self, instance: ApiKey) -> dict[str, Any]:
        data = super().to_representation(instance)
        if data.get("scopes") is None:  # DRF skips a field's own handling of NULL
            data["scopes"] = []
        return data

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "is_active",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        ]
        read_only_fields = [
            "id",
            "prefix",
            "is_active",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]


class ApiKeyCreateSerializer(ApiKeySerializer):
    """Makes a key for the requesting user; the response carries the token, this once only."""

    token = serializers.CharField(
        read_only=True, help_text="Shown only in this response; store it now."
    )

    # The token of the key this serializer made, for this response only; never saved.
    _token: str | None = None

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "token"]

    def validate_expires_at(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value

    def create(self, validated_data: dict[str, Any]) -> ApiKey:
        token, prefix, digest = generate_token()
        key = ApiKey.objects.create(
            user=self.context["request"].user, prefix=prefix, digest=digest, **validated_data
        )
        self._token = token
        return key

    def to_representation(self, instance: ApiKey) -> dict[str, Any]:
        # ``token`` is not an attribute of the key, so the field is skipped above; the
        # serializer that made the key adds it (it is the last of the fields).
        data = super().to_representation(instance)
        if self._token is not None:
            data["token"] = self._token
        return data


class LoginSerializer(TokenObtainPairSerializer):
    """simplejwt's login, issuing refresh tokens bound to the login and the password."""

    token_class = tokens.RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        data = super().validate(attrs)
        if self.user is None:  # super() refuses a failed login before this
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        events.log_event(events.LOGIN_SUCCEEDED, user_id=self.user.pk, via="api")
        return data


class RefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh of our refresh tokens: refused once the password changed, the
    account was deactivated or deleted, or the login is older than the refresh lifetime."""

    token_class = tokens.RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from exc


class LogoutSerializer(TokenBlacklistSerializer):
    """simplejwt's logout, for our refresh tokens."""

    token_class = tokens.RefreshToken
