"""The consolidated models: one user per person, whatever legacy table they came from.

Every row the copy creates records its origin (``legacy_source`` + ``legacy_id``), so a
re-run knows what is done, the reverse knows what to remove, and the admin can show it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

# fu_users.hashed_password is varchar(1024); the copy prepends a short algorithm name
# so Django can pick the hasher.
PASSWORD_MAX_LENGTH = 1024 + 64
# How a user's password was last set (User.password_set_by); empty: as the copy left it.
PASSWORD_SET, PASSWORD_REHASHED = "authcore", "rehash"
# RFC 5321 caps a deliverable address at 254 characters; longer ones are rejected.
EMAIL_MAX_LENGTH = 254


class UserManager(BaseUserManager["User"]):
    """Looks people up by email, ignoring case and surrounding spaces."""

    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # The very expression of the unique constraint: iexact would compare UPPER()s,
        # which can match two rows that LOWER() keeps apart.
        email = (username or "").strip()
        return self.alias(email_key=Lower("email")).get(email_key=Lower(Value(email)))

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email or not email.strip():
            raise ValueError("An email address is required.")
        user = self.model(email=email.strip(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Email is the login, unique regardless of case."""

    email = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    password = models.CharField("password", max_length=PASSWORD_MAX_LENGTH)
    username = models.CharField(max_length=255, null=True, blank=True)
    full_name = models.CharField(max_length=255, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into this admin site. Never copied from legacy rows."
    )
    is_verified = models.BooleanField(default=False, help_text="Email address confirmed.")
    date_joined = models.DateTimeField(default=timezone.now)
    password_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the password was set in authcore."
    )
    password_set_by = models.CharField(
        max_length=16,
        null=True,
        blank=True,
        choices=[(PASSWORD_SET, "set in authcore"), (PASSWORD_REHASHED, "re-hashed at login")],
        help_text="How the password was last set: empty, as the copy left it.",
    )
    legacy_source = models.CharField(
        max_length=64, null=True, blank=True, help_text="Legacy table this user was created from."
    )
    legacy_id = models.CharField(
        max_length=64, null=True, blank=True, help_text="Primary key of the winning legacy row."
    )
    # The user's NATS credential: the values of the winning nats_user_credential
    # row, moved onto the user. natscreds.admin shows them; the seed hash is never shown.
    nats_jwt = models.TextField(null=True, blank=True, help_text="NATS user JWT.")
    nats_seed_hash = models.CharField(
        max_length=128, null=True, blank=True, help_text="Hash of the nkey seed, never the seed."
    )
    nats_public_key = models.CharField(
        max_length=56, null=True, blank=True, help_text="The user's nkey (starts with U)."
    )
    nats_account = models.ForeignKey(
        "natscreds.NatsAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        db_index=False,  # a partial index (Meta.indexes): most users have no NATS account
    )
    nats_account_public_key = models.CharField(max_length=56, null=True, blank=True)
    nats_expires_at = models.DateTimeField(null=True, blank=True)
    nats_expired_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the credential was retired."
    )
    nats_legacy_id = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text="The nats_user_credential row these values came from (empty: none, or "
        "issued in authcore).",
    )
    nats_problems = models.TextField(
        null=True,
        blank=True,
        help_text="Verification flags of that credential, comma-separated; empty when it "
        "passed every check.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            # Also the index of every lookup by legacy_source alone (its first column).
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="accounts_user_legacy_unique"
            ),
        ]
        indexes = [
            # The NATS columns are empty for most users: indexing only the filled ones
            # spares every copied user two index entries nobody looks up.
            models.Index(
                fields=["nats_account"],
                name="accounts_user_nats_account_idx",
                condition=models.Q(nats_account__isnull=False),
            ),
            models.Index(
                fields=["nats_legacy_id"],
                name="accounts_user_nats_legacy_idx",
                condition=models.Q(nats_legacy_id__isnull=False),
            ),
            # The admin's list order (email, then id): a page of a million users is read
            # from this index instead of sorting the whole table. The unique constraint's
            # index is on LOWER(email), which ORDER BY email cannot use.
            models.Index(fields=["email", "id"], name="accounts_user_email_id_idx"),
        ]

    def __str__(self) -> str:
        return self.email

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        # Lets --verify tell a password changed here from a tampered one.
        self.password_changed_at = timezone.now()
        self.password_set_by = PASSWORD_SET

    def check_password(self, raw_password: str | None) -> bool:
        """Django's check, whose upgrade of an old hash at login is recorded as a re-hash:
        the same password, so --sync still follows a change made in the old service."""

        def rehash(raw: str | None) -> None:
            was_copied = self.password_set_by in (None, PASSWORD_REHASHED)
            self.set_password(raw)
            if was_copied:
                self.password_set_by = PASSWORD_REHASHED
            self._password = None  # an upgrade is no password change (Django's own rule)
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, rehash)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django's upgrade-on-login saves update_fields=["password"] only.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "password" in update_fields:
            kwargs["update_fields"] = {*update_fields, "password_changed_at", "password_set_by"}
        super().save(*args, **kwargs)


class UserOrigin(models.Model):
    """One legacy row that was merged into a user (the winning row included)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="origins")
    source = models.CharField(max_length=64, help_text="Legacy table (its key in settings).")
    legacy_id = models.CharField(max_length=64)
    legacy_email = models.CharField(max_length=512, help_text="The email as the legacy row has it.")
    copied_at = models.DateTimeField()
    # What the legacy row said when it was last copied or synced: --verify and --sync tell
    # a change in the old service from one made in authcore by comparing with these.
    legacy_password = models.CharField(
        max_length=PASSWORD_MAX_LENGTH, blank=True, default="", help_text="Never displayed."
    )
    legacy_active = models.BooleanField(default=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # Whether this row may give its user anything that lets anyone in: it is the user's
    # winning row, or the old service had confirmed its address (fu_users.is_verified).
    # A source listed in LEGACY_VERIFIED_SOURCES proves all its rows, whatever this says.
    proven = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The winning row, or its address was confirmed by its service.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "legacy_id"], name="accounts_origin_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source}#{self.legacy_id}"


class RoleGroup(models.Model):
    """Marks a Django group that stands for a legacy role, and whether the copy made it."""

    group = models.OneToOneField(
        Group, on_delete=models.CASCADE, primary_key=True, related_name="legacy_role"
    )
    created_by_copy = models.BooleanField(default=True)

    def __str__(self) -> str:
        return str(self.group_id)


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def of(self, user: User) -> ApiKeyQuerySet:
        """The keys ``user`` sees and manages: not those held for review, which came from a
        merged row nobody has shown to be this person's (their names and prefixes too)."""
        return self.filter(user=user, held=False)


class ApiKey(models.Model):
    """A long-lived API token. Only its sha256 digest is stored, never the token."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters of the token.")
    digest = models.CharField(max_length=64, help_text="sha256 hex of the token.")
    scopes = models.TextField(null=True, blank=True, help_text="Comma-separated, as before.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Copied from a merged row whose address was never proven: it belongs to the user and
    # shows in the admin, but does not authenticate until a person releases it.
    held = models.BooleanField(
        default=False, db_default=False, help_text="Held for review: does not authenticate."
    )
    legacy_source = models.CharField(max_length=64, null=True, blank=True)
    legacy_id = models.CharField(max_length=64, null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        constraints = [
            # A constraint, not unique=True: that also builds a second index for LIKE
            # queries, which a random digest never gets, and which every insert pays for.
            models.UniqueConstraint(fields=["digest"], name="accounts_apikey_digest_unique"),
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="accounts_apikey_legacy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class Profile(models.Model):
    """Extended profile of a user (from the shared models' ``user_profile``)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField(null=True, blank=True)
    avatar_url = models.CharField(max_length=500, null=True, blank=True)
    timezone = models.CharField(max_length=64, null=True, blank=True)
    locale = models.CharField(max_length=16, null=True, blank=True)
    phone = models.CharField(max_length=32, null=True, blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    legacy_source = models.CharField(max_length=64, null=True, blank=True)
    legacy_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="accounts_profile_legacy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class LoginSession(models.Model):
    """A login session; only the sha256 digest of its token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    token_digest = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Copied from a merged row whose address was never proven: it belongs to the user and
    # shows in the admin, but does not authenticate until a person releases it.
    held = models.BooleanField(
        default=False, db_default=False, help_text="Held for review: does not authenticate."
    )
    legacy_source = models.CharField(max_length=64, null=True, blank=True)
    legacy_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            # Not unique=True, for the reason given on ApiKey.digest.
            models.UniqueConstraint(
                fields=["token_digest"], name="accounts_session_token_digest_unique"
            ),
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="accounts_session_legacy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"


class Tenant(models.Model):
    """A tenant (a client of the multi-tenant auth service)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(User, through="Membership", related_name="tenants")
    legacy_source = models.CharField(max_length=64, null=True, blank=True)
    legacy_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="accounts_tenant_legacy_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """A user's membership of a tenant, with the role they hold there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=50, default="member")
    legacy_source = models.CharField(max_length=64, null=True, blank=True)
    legacy_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="accounts_membership_unique"),
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="accounts_membership_legacy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.tenant_id} as {self.role}"
