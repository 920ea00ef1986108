"""What the account flows read and answer: addresses, passwords, tokens, names, roles."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.flows.tenant_members import ROLES
from accounts.membership_models import Invitation
from accounts.models import EMAIL_MAX_LENGTH, User

PASSWORD_MAX_LENGTH = 4096  # Django's forms take no longer ones either


class DetailSerializer(serializers.Serializer[dict[str, Any]]):
    """A sentence about what happened (the same whatever the address)."""

    detail = serializers.CharField()


class SignUpSerializer(serializers.Serializer[dict[str, Any]]):
    """Sign-up: an address, a password and optionally a name. Nothing else is read."""

    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False
    )
    full_name = serializers.CharField(
        max_length=255, required=False, allow_blank=True, allow_null=True
    )


class EmailSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)


class TokenSerializer(serializers.Serializer[dict[str, Any]]):
    token = serializers.CharField(max_length=200, help_text="The token from the email's link.")


class PasswordResetSerializer(TokenSerializer):
    new_password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False
    )


class PasswordChangeSerializer(serializers.Serializer[dict[str, Any]]):
    old_password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False
    )
    new_password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False
    )


class NamesSerializer(serializers.ModelSerializer[User]):
    """The fields of their own account a person may change: their names, nothing else."""

    class Meta:
        model = User
        fields = ["full_name", "username"]
        extra_kwargs = {
            "full_name": {"allow_null": True, "allow_blank": True},
            "username": {"allow_null": True, "allow_blank": True},
        }


class TenantAddSerializer(serializers.Serializer[dict[str, Any]]):
    """An address to add to a tenant, with the role it gets."""

    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    role = serializers.ChoiceField(choices=ROLES)


class TenantRoleChangeSerializer(serializers.Serializer[dict[str, Any]]):
    role = serializers.ChoiceField(choices=ROLES)


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    """An invitation, as the tenant's managers see it."""

    class Meta:
        model = Invitation
        fields = ["email", "role", "created_at", "expires_at", "accepted_at"]
        read_only_fields = fields
