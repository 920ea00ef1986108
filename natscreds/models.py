"""Consolidated NATS models: accounts and auth sessions.

A user's own credential lives on ``accounts.User`` (``nats_*`` fields); the legacy
``nats_user_credential`` table has no counterpart here, and sessions no ``credential_id``.
Every row the copy creates records its origin (``legacy_source`` + ``legacy_id``), so a
re-run knows what is done and the reverse knows what to remove.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class NatsAccount(models.Model):
    """A NATS account: the issuer of its users' JWTs."""

    name = models.CharField(max_length=100)
    public_key = models.CharField(
        max_length=56, unique=True, help_text="The account's nkey (starts with A)."
    )
    jwt = models.TextField(null=True, blank=True, help_text="The account JWT, if any.")
    signing_key_public = models.CharField(
        max_length=56,
        null=True,
        blank=True,
        help_text="Public key of the account's signing key; it may issue user JWTs too.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    legacy_source = models.CharField(max_length=64, null=True, blank=True)
    legacy_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = "NATS account"
        constraints = [
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="natscreds_account_legacy_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class NatsAuthSession(models.Model):
    """A NATS auth session of a user, on an account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nats_sessions"
    )
    account = models.ForeignKey(
        NatsAccount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
    )
    client_id = models.CharField(max_length=100, null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    legacy_source = models.CharField(max_length=64, null=True, blank=True)
    legacy_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = "NATS auth session"
        constraints = [
            models.UniqueConstraint(
                fields=["legacy_source", "legacy_id"], name="natscreds_session_legacy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"NATS session {self.pk} of {self.user_id}"
