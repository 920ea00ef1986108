"""The legacy tables of legacy/catalog.py, mapped read-only (``managed = False``).

Nothing here is ever written: the copy only reads, so a rollback is just pointing the old
services back at these tables. Columns marked "may be missing" are declared so the admin
can show them where they exist; the copy engine reads only the columns it finds. Their
schema as the old services made it is tests/sql/legacy_schema.postgresql.sql.
"""

from __future__ import annotations

from django.db import models

from legacy.tables import configured_name

# ---- Source 1: the auth service ---------------------------------------------------------


class AuthClient(models.Model):
    """A tenant of the auth service (multi-tenant deployments only)."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = configured_name("clients")
        verbose_name = "auth service client"

    def __str__(self) -> str:
        return self.slug


class AuthUser(models.Model):
    """A row of the auth service's ``users`` table."""

    id = models.AutoField(primary_key=True)
    email = models.CharField(max_length=255, unique=True)
    # May be called hashed_password, and may have been made nullable.
    password_hash = models.CharField(max_length=255, null=True)
    full_name = models.CharField(max_length=255, null=True)  # may be missing
    username = models.CharField(max_length=255, null=True)  # may be missing
    role = models.CharField(max_length=50)
    is_active = models.BooleanField(default=True)
    client = models.ForeignKey(  # may be missing
        AuthClient, models.DO_NOTHING, null=True, db_constraint=False, related_name="users"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True)  # may be missing
    last_login_at = models.DateTimeField(null=True)  # may be missing

    class Meta:
        managed = False
        db_table = configured_name("users")
        verbose_name = "auth service user"

    def __str__(self) -> str:
        return self.email


class AuthUserApiKey(models.Model):
    """A row of ``user_api_keys``: only the token's sha256 digest is stored."""

    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        AuthUser, models.DO_NOTHING, db_constraint=False, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.TextField(null=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = configured_name("user_api_keys")
        verbose_name = "auth service API key"

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.name})"


# ---- Source 2: the shared models ----------------------------------------------------------


class SharedUser(models.Model):
    """A row of the shared models' ``"user"`` table (a reserved word: always quoted)."""

    id = models.UUIDField(primary_key=True)
    email = models.CharField(max_length=320, unique=True)
    username = models.CharField(max_length=150, null=True)
    hashed_password = models.CharField(max_length=255, null=True)
    first_name = models.CharField(max_length=150, null=True)
    last_name = models.CharField(max_length=150, null=True)
    is_active = models.BooleanField(default=True)
    is_superuser = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = configured_name("user")
        verbose_name = "shared-models user"

    def __str__(self) -> str:
        return self.email


class SharedUserApiKey(models.Model):
    """A row of ``user_api_key`` (same digest scheme as the auth service)."""

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(
        SharedUser, models.DO_NOTHING, db_constraint=False, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True)
    revoked_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = configured_name("user_api_key")
        verbose_name = "shared-models API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class SharedUserProfile(models.Model):
    """A row of ``user_profile``: one per shared-models user."""

    id = models.UUIDField(primary_key=True)
    user = models.OneToOneField(
        SharedUser, models.DO_NOTHING, db_constraint=False, related_name="profile"
    )
    bio = models.TextField(null=True)
    avatar_url = models.CharField(max_length=500, null=True)
    timezone = models.CharField(max_length=64, null=True)
    locale = models.CharField(max_length=16, null=True)
    phone = models.CharField(max_length=32, null=True)
    preferences = models.JSONField(default=dict)

    class Meta:
        managed = False
        db_table = configured_name("user_profile")
        verbose_name = "shared-models profile"

    def __str__(self) -> str:
        return str(self.id)


class SharedUserSession(models.Model):
    """A row of ``user_session``: a login session, stored as a token digest."""

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(
        SharedUser, models.DO_NOTHING, db_constraint=False, related_name="sessions"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    ip_address = models.GenericIPAddressField(null=True)
    user_agent = models.TextField(null=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = configured_name("user_session")
        verbose_name = "shared-models session"

    def __str__(self) -> str:
        return str(self.id)


# ---- Source 3: fastapi-users --------------------------------------------------------------


class FastapiUser(models.Model):
    """A row of fastapi-users' ``fu_users``."""

    id = models.UUIDField(primary_key=True)
    email = models.CharField(max_length=320, unique=True)
    hashed_password = models.CharField(max_length=1024)
    is_active = models.BooleanField(default=True)
    is_superuser = models.BooleanField(default=False)
    is_verified = models.BooleanField(default=False)

    class Meta:
        managed = False
        db_table = configured_name("fu_users")
        verbose_name = "fastapi-users user"

    def __str__(self) -> str:
        return self.email


# ---- Source 4: NATS credentials -----------------------------------------------------------


class NatsAccount(models.Model):
    """A row of ``nats_account``."""

    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=100, unique=True)
    public_key = models.CharField(max_length=56, unique=True)
    jwt = models.TextField(null=True)
    signing_key_public = models.CharField(max_length=56, null=True)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = configured_name("nats_account")
        verbose_name = "legacy NATS account"

    def __str__(self) -> str:
        return self.name


class NatsUserCredential(models.Model):
    """A row of ``nats_user_credential``: one of possibly several rotations per user."""

    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        AuthUser, models.DO_NOTHING, db_constraint=False, related_name="nats_credentials"
    )
    account = models.ForeignKey(
        NatsAccount, models.DO_NOTHING, null=True, db_constraint=False, related_name="credentials"
    )
    jwt = models.TextField()
    seed_hash = models.CharField(max_length=128)
    public_key = models.CharField(max_length=56, unique=True)
    account_public_key = models.CharField(max_length=56)
    expires_at = models.DateTimeField(null=True)
    expired_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = configured_name("nats_user_credential")
        verbose_name = "legacy NATS user credential"

    def __str__(self) -> str:
        return self.public_key


class NatsAuthSession(models.Model):
    """A row of ``nats_auth_session``."""

    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        AuthUser, models.DO_NOTHING, db_constraint=False, related_name="nats_sessions"
    )
    credential = models.ForeignKey(
        NatsUserCredential, models.DO_NOTHING, null=True, db_constraint=False, related_name="+"
    )
    account = models.ForeignKey(
        NatsAccount, models.DO_NOTHING, null=True, db_constraint=False, related_name="sessions"
    )
    client_id = models.CharField(max_length=100, null=True)
    ip_address = models.GenericIPAddressField(null=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = configured_name("nats_auth_session")
        verbose_name = "legacy NATS auth session"

    def __str__(self) -> str:
        return str(self.id)
