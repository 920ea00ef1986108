"""The admin's view of tenant invitations and of every change to a tenant's members.

Both are written by accounts/flows/tenant_members.py only; here they are read.
"""

from __future__ import annotations

from django.contrib import admin

from accounts.membership_models import Invitation, MembershipChange
from authcore.lib.admin_lists import ReadOnlyMixin
from authcore.lib.admin_types import AnyModelAdmin


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyMixin, AnyModelAdmin):
    """Who added, invited, re-roled or removed whom, and when."""

    list_display = ("at", "tenant", "action", "member_email", "old_role", "new_role", "actor_email")
    list_filter = ("action",)
    list_select_related = ("tenant",)
    search_fields = ("member_email", "actor_email", "tenant__slug")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")
    fields = (
        "at",
        "tenant",
        "action",
        "member",
        "member_email",
        "old_role",
        "new_role",
        "actor",
        "actor_email",
    )


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyMixin, AnyModelAdmin):
    """Invitations to tenants: waiting, expired or accepted (and by whom)."""

    list_display = (
        "email",
        "tenant",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
    )
    list_select_related = ("tenant", "invited_by")
    search_fields = ("email", "tenant__slug")
    ordering = ("-created_at", "-pk")
    fields = (
        "tenant",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    )
