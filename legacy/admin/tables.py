"""The legacy tables, source by source: each admin declares its columns for the full schema
and shows the ones the database really has (legacy_table.py)."""

from __future__ import annotations

from django.contrib import admin

from authcore.lib.masking import mask_jwt
from legacy.admin.legacy_table import LegacyRoleFilter, ReadOnlyLegacyAdmin, masked, related_link
from legacy.models import (
    AuthClient,
    AuthUser,
    AuthUserApiKey,
    FastapiUser,
    NatsAccount,
    NatsAuthSession,
    NatsUserCredential,
    SharedUser,
    SharedUserApiKey,
    SharedUserProfile,
    SharedUserSession,
)

# ---- Source 1: the auth service -----------------------------------------------------------


@admin.register(AuthClient)
class AuthClientAdmin(ReadOnlyLegacyAdmin):
    """The auth service's tenants (``clients``)."""

    label_field = "slug"
    list_display = ("id", "name", "slug", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")


@admin.register(AuthUser)
class AuthUserAdmin(ReadOnlyLegacyAdmin):
    """The auth service's ``users``; the password column is found under either name."""

    label_field = "email"
    password_columns = ("password_hash", "hashed_password")
    list_display = (
        "id",
        "email",
        "username",
        "full_name",
        "role",
        "is_active",
        "client_link",
        "password_format",
        "created_at",
        "last_login_at",
    )
    list_filter = ("is_active", ("role", LegacyRoleFilter))
    search_fields = ("email", "username", "full_name")
    client_link = related_link("client")


@admin.register(AuthUserApiKey)
class AuthUserApiKeyAdmin(ReadOnlyLegacyAdmin):
    """The auth service's ``user_api_keys``, digests cut short."""

    label_field = "key_prefix"
    list_display = (
        "id",
        "user_link",
        "name",
        "key_prefix",
        "key_hash_masked",
        "scopes",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
    )
    list_filter = ("is_active",)
    search_fields = ("key_prefix", "name", "user__email")
    user_link = related_link("user")
    key_hash_masked = masked("key_hash")


# ---- Source 2: the shared models ----------------------------------------------------------


@admin.register(SharedUser)
class SharedUserAdmin(ReadOnlyLegacyAdmin):
    """The shared models' ``"user"`` table."""

    label_field = "email"
    password_columns = ("hashed_password",)
    list_display = (
        "id",
        "email",
        "username",
        "first_name",
        "last_name",
        "is_active",
        "is_superuser",
        "password_format",
        "created_at",
    )
    list_filter = ("is_active", "is_superuser")
    search_fields = ("email", "username", "first_name", "last_name")


@admin.register(SharedUserApiKey)
class SharedUserApiKeyAdmin(ReadOnlyLegacyAdmin):
    """The shared models' ``user_api_key``, digests cut short."""

    label_field = "prefix"
    list_display = (
        "id",
        "user_link",
        "name",
        "prefix",
        "key_hash_masked",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    search_fields = ("prefix", "name", "user__email")
    user_link = related_link("user")
    key_hash_masked = masked("key_hash")


@admin.register(SharedUserProfile)
class SharedUserProfileAdmin(ReadOnlyLegacyAdmin):
    """The shared models' ``user_profile``."""

    list_display = ("id", "user_link", "timezone", "locale", "phone")
    search_fields = ("user__email", "phone")
    user_link = related_link("user")


@admin.register(SharedUserSession)
class SharedUserSessionAdmin(ReadOnlyLegacyAdmin):
    """The shared models' ``user_session``, token digests cut short."""

    list_display = (
        "id",
        "user_link",
        "token_hash_masked",
        "ip_address",
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
    )
    search_fields = ("user__email", "ip_address")
    user_link = related_link("user")
    token_hash_masked = masked("token_hash")


# ---- Source 3: fastapi-users --------------------------------------------------------------


@admin.register(FastapiUser)
class FastapiUserAdmin(ReadOnlyLegacyAdmin):
    """fastapi-users' ``fu_users``."""

    label_field = "email"
    password_columns = ("hashed_password",)
    list_display = ("id", "email", "is_active", "is_superuser", "is_verified", "password_format")
    list_filter = ("is_active", "is_superuser", "is_verified")
    search_fields = ("email",)


# ---- Source 4: NATS credentials -----------------------------------------------------------


@admin.register(NatsAccount)
class NatsAccountAdmin(ReadOnlyLegacyAdmin):
    """NATS accounts (``nats_account``)."""

    label_field = "name"
    list_display = ("id", "name", "public_key", "signing_key_public", "created_at")
    search_fields = ("name", "public_key")
    jwt_masked = masked("jwt", mask_jwt, shown="shortened")


@admin.register(NatsUserCredential)
class NatsUserCredentialAdmin(ReadOnlyLegacyAdmin):
    """NATS user credentials, every rotation; seed hashes cut short."""

    label_field = "public_key"
    list_display = (
        "id",
        "user_link",
        "account_link",
        "public_key",
        "account_public_key",
        "seed_hash_masked",
        "expires_at",
        "expired_at",
        "created_at",
    )
    search_fields = ("public_key", "account_public_key", "user__email", "account__name")
    user_link = related_link("user")
    account_link = related_link("account")
    seed_hash_masked = masked("seed_hash")
    jwt_masked = masked("jwt", mask_jwt, shown="shortened")


@admin.register(NatsAuthSession)
class NatsAuthSessionAdmin(ReadOnlyLegacyAdmin):
    """NATS auth sessions (``nats_auth_session``)."""

    list_display = (
        "id",
        "user_link",
        "credential_link",
        "account_link",
        "client_id",
        "ip_address",
        "created_at",
        "expires_at",
        "closed_at",
    )
    search_fields = ("user__email", "client_id", "ip_address")
    user_link = related_link("user")
    credential_link = related_link("credential")
    account_link = related_link("account")
