"""Tenant invitations and the record of every change to a tenant's members.

Registered with the accounts app by ``AccountsConfig.import_models`` (their migration is
the app's), kept out of ``accounts/models.py`` so the copy's models stay on their own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Invitation(models.Model):
    """An owner's or admin's offer of a role in a tenant to an address.

    It grants its role once, to the account that holds the address once that address is
    verified, and only while it has not expired or been used (accounts/flows/tenant_members).
    """

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=50)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        app_label = "accounts"
        indexes = [
            models.Index(Lower("email"), name="accounts_invitation_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.tenant_id} as {self.role}"


class MembershipChange(models.Model):
    """Who changed which membership of a tenant, when, and from what to what."""

    ADDED, INVITED, ROLE_CHANGED, REMOVED, ACCEPTED = (
        "added",
        "invited",
        "role_changed",
        "removed",
        "invitation_accepted",
    )
    ACTIONS = [
        (ADDED, "member added"),
        (INVITED, "invitation sent"),
        (ROLE_CHANGED, "role changed"),
        (REMOVED, "member removed"),
        (ACCEPTED, "invitation accepted"),
    ]

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="membership_changes"
    )
    action = models.CharField(max_length=32, choices=ACTIONS)
    # The addresses are kept as well as the links, so the record outlives the accounts.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True, default="")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    member_email = models.CharField(max_length=254)
    old_role = models.CharField(max_length=50, blank=True, default="")
    new_role = models.CharField(max_length=50, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "accounts"
        indexes = [models.Index(fields=["tenant", "-at"], name="accounts_mchange_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.member_email} in {self.tenant_id}"
