"""Admin pages for consolidated users, their API keys, and where each user came from.

Secrets never reach the page: the password shows Django's masked hash summary, an API key
only the first characters of its digest.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from accounts.models import ApiKey, User, UserOrigin

DIGEST_SHOWN = 8
"""How many leading characters of a digest the admin shows: enough to tell keys apart."""


def mask_digest(digest: str | None) -> str | None:
    """The first ``DIGEST_SHOWN`` characters of a digest followed by "…"; None stays None."""
    if digest is None:
        return None
    return f"{digest[:DIGEST_SHOWN]}…" if digest else ""


class _UniqueEmailMixin:
    """Email is unique regardless of case (a functional constraint the form cannot see)."""

    instance: User
    cleaned_data: dict[str, Any]

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip()
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                "A user with this email address already exists (emails ignore case).",
                code="unique",
            )
        return email


class UserCreationAdminForm(_UniqueEmailMixin, AdminUserCreationForm):
    """Django's admin creation form with the email as the login."""

    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(_UniqueEmailMixin, UserChangeForm):
    """Django's change form; ``password`` stays its masked read-only summary."""

    class Meta:
        model = User
        fields = "__all__"


class PasswordKindFilter(admin.SimpleListFilter):
    """Which users still carry a hash copied from a legacy table (upgraded at next login)."""

    title = "password"
    parameter_name = "password"

    # accounts.hashers algorithm names: a copied legacy hash is stored as "<algorithm>$<hash>".
    LEGACY_PREFIXES = (
        "legacy_bcrypt$",
        "legacy_argon2$",
        "passlib_pbkdf2_sha256$",
        "werkzeug_pbkdf2$",
        "werkzeug_scrypt$",
    )

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [
            ("legacy", "legacy hash (not yet upgraded)"),
            ("unusable", "no usable password"),
            ("current", "hashed by authcore"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        legacy = Q()
        for prefix in self.LEGACY_PREFIXES:
            legacy |= Q(password__startswith=prefix)
        unusable = Q(password__startswith="!") | Q(password="")
        if self.value() == "legacy":
            return queryset.filter(legacy)
        if self.value() == "unusable":
            return queryset.filter(unusable)
        if self.value() == "current":
            return queryset.exclude(legacy).exclude(unusable)
        return queryset


class ApiKeyInline(admin.TabularInline):
    """The user's API keys, read-only: keys are issued and revoked through the API."""

    model = ApiKey
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "name",
        "prefix",
        "digest_masked",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "legacy_source",
        "legacy_id",
    )
    readonly_fields = fields

    @admin.display(description="digest")
    def digest_masked(self, obj: ApiKey) -> str | None:
        return mask_digest(obj.digest)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserOriginInline(admin.TabularInline):
    """The legacy rows merged into this user; written by the copy only."""

    model = UserOrigin
    extra = 0
    can_delete = False
    fields = ("source", "legacy_id", "legacy_email", "copied_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Django's user admin, adapted: email is the login; there is no first or last name."""

    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = (
        "email",
        "username",
        "full_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "is_verified",
        "legacy_source",
        "date_joined",
    )
    list_filter = (
        "is_active",
        "is_staff",
        "is_superuser",
        "is_verified",
        "legacy_source",
        PasswordKindFilter,
        "groups",
    )
    search_fields = ("email", "username", "full_name")
    ordering = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("username", "full_name")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "is_verified",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined", "password_changed_at")}),
        ("Origin", {"fields": ("legacy_source", "legacy_id")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    # password_changed_at is what --verify uses to tell a change made here from tampering.
    readonly_fields = ("password_changed_at", "legacy_source", "legacy_id")
    inlines = (ApiKeyInline, UserOriginInline)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> Any:
        # Nothing to list on the add page.
        return self.inlines if obj is not None else ()


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """API keys: new keys come from the API, so there is no add page here."""

    list_display = (
        "user",
        "name",
        "prefix",
        "digest_masked",
        "is_active",
        "expires_at",
        "revoked_at",
        "legacy_source",
    )
    list_select_related = ("user",)
    list_filter = ("is_active", "legacy_source")
    search_fields = ("prefix", "name", "user__email")
    exclude = ("digest",)
    fields = (
        "user",
        "name",
        "prefix",
        "digest_masked",
        "scopes",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "legacy_source",
        "legacy_id",
    )
    readonly_fields = (
        "user",
        "prefix",
        "digest_masked",
        "created_at",
        "last_used_at",
        "legacy_source",
        "legacy_id",
    )

    @admin.display(description="digest")
    def digest_masked(self, obj: ApiKey) -> str | None:
        return mask_digest(obj.digest)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(UserOrigin)
class UserOriginAdmin(admin.ModelAdmin):
    """Which legacy row went into which user: written by the copy only."""

    list_display = ("source", "legacy_id", "user", "legacy_email", "copied_at")
    list_select_related = ("user",)
    list_filter = ("source",)
    search_fields = ("legacy_id", "legacy_email", "user__email")
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
