"""Admin pages for what belongs to users: keys, profiles, sessions, tenants, memberships and
origins. Rows the copy made are its record, so those are view-only (accounts/admin/users.py
says why).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.admin.users import (
    LEGACY_SOURCE_FILTER,
    SESSION_FIELDS,
    CopiedMembershipInline,
    IndexedValuesFilter,
    count_of,
    origin_link,
)
from accounts.models import (
    ApiKey,
    LoginSession,
    Membership,
    Profile,
    Tenant,
    UserOrigin,
)
from authcore.lib.admin_lists import DirectActionCheckbox, EstimatedCountPaginator, ReadOnlyMixin
from authcore.lib.admin_types import AnyModelAdmin, AnyTabularInline
from authcore.lib.masking import mask_digest
from legacy.admin import legacy_row_link

# ---- What belongs to users ------------------------------------------------------------------


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # Put ahead of a ModelAdmin: to the type checker it is one, so super() is checked.
    _CopiedRowsBase = AnyModelAdmin
else:
    _CopiedRowsBase = object


class CopiedRowsViewOnly(_CopiedRowsBase):
    """Rows the copy made are its record (``--verify`` compares them): view only.

    Rows created in authcore stay editable. Bulk deletion is off, since it would take
    copied rows along.
    """

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.legacy_source:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.legacy_source:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(ApiKey)
class ApiKeyAdmin(DirectActionCheckbox, AnyModelAdmin):
    """API keys: new keys come from the API, so there is no add page here.

    An edit may deactivate, revoke, shorten or rename a key, or drop some of its scopes;
    it may not give access back (every admin's forms refuse that, authcore/lib/admin_guard.py).
    ``held`` is shown, never edited: the review queue releases held keys.
    """

    list_display = (
        "user",
        "name",
        "prefix",
        "digest_masked",
        "is_active",
        "held",
        "expires_at",
        "revoked_at",
        "copied_from",
    )
    list_select_related = ("user",)
    list_filter = ("is_active", "held", LEGACY_SOURCE_FILTER)
    show_full_result_count = False  # about one key per person: counted once a page
    paginator = EstimatedCountPaginator
    search_fields = ("prefix", "name", "user__email")
    exclude = ("digest",)
    fields = (
        "user",
        "name",
        "prefix",
        "digest_masked",
        "scopes",
        "is_active",
        "held",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "copied_from",
    )
    readonly_fields = (
        "user",
        "prefix",
        "digest_masked",
        "held",
        "created_at",
        "last_used_at",
        "copied_from",
    )

    @admin.display(description="digest")
    def digest_masked(self, obj: ApiKey) -> str | None:
        return mask_digest(obj.digest)

    @admin.display(description="copied from", ordering="legacy_source")
    def copied_from(self, obj: ApiKey) -> str:
        return origin_link(obj, self.admin_site.name)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Profile)
class ProfileAdmin(CopiedRowsViewOnly, AnyModelAdmin):
    """Profiles (one per user)."""

    list_display = ("user", "timezone", "locale", "phone", "copied_from")
    list_select_related = ("user",)
    list_filter = (LEGACY_SOURCE_FILTER, "locale")
    search_fields = ("user__email", "phone")
    autocomplete_fields = ("user",)
    fields = (
        "user",
        "bio",
        "avatar_url",
        "timezone",
        "locale",
        "phone",
        "preferences",
        "copied_from",
    )
    readonly_fields = ("copied_from",)

    @admin.display(description="copied from", ordering="legacy_source")
    def copied_from(self, obj: Profile) -> str:
        return origin_link(obj, self.admin_site.name)


class SessionStateFilter(admin.SimpleListFilter):
    """Sessions that can still be used, and the ones that cannot (and why)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: AnyModelAdmin) -> list[tuple[str, str]]:
        return [("active", "active"), ("expired", "expired"), ("revoked", "revoked")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[LoginSession]
    ) -> QuerySet[LoginSession]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyMixin, AnyModelAdmin):
    """Login sessions, view only: logins make them and their token is only a digest here."""

    list_display = ("user", *SESSION_FIELDS)
    list_select_related = ("user",)
    list_filter = (SessionStateFilter, "held", LEGACY_SOURCE_FILTER)
    show_full_result_count = False  # sessions outnumber people: counted once a page
    paginator = EstimatedCountPaginator
    search_fields = ("user__email", "ip_address", "user_agent")
    fields = ("user", *SESSION_FIELDS)
    readonly_fields = fields
    ordering = ("-created_at",)

    @admin.display(description="token digest")
    def token_digest_masked(self, obj: LoginSession) -> str | None:
        return mask_digest(obj.token_digest)

    @admin.display(description="copied from", ordering="legacy_source")
    def copied_from(self, obj: LoginSession) -> str:
        return origin_link(obj, self.admin_site.name)


class CopiedTenantMembershipInline(CopiedMembershipInline):
    """A tenant's members copied from ``users.client_id``: shown as copied."""

    other_side = "user"
    verbose_name = "member copied from a legacy table"
    verbose_name_plural = "members copied from legacy tables"


class TenantMembershipInline(AnyTabularInline):
    """A tenant's members added in authcore (none can be added to a copied tenant)."""

    model = Membership
    verbose_name = "member added in authcore"
    verbose_name_plural = "members added in authcore"
    extra = 0
    fields = ("user", "role")
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        queryset = super().get_queryset(request).select_related("user")
        return queryset.filter(legacy_source__isnull=True)

    def _copied_tenant(self, obj: Any) -> bool:
        return obj is not None and bool(obj.legacy_source)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._copied_tenant(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._copied_tenant(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._copied_tenant(obj) and super().has_delete_permission(request, obj)


class _MemberTotal(TypedDict):
    member_total: int


@admin.register(Tenant)
class TenantAdmin(CopiedRowsViewOnly, AnyModelAdmin):
    """Tenants and their members."""

    list_display = ("name", "slug", "is_active", "member_count", "copied_from", "created_at")
    list_filter = ("is_active", LEGACY_SOURCE_FILTER)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "is_active", "created_at", "copied_from")
    readonly_fields = ("copied_from",)
    inlines = (CopiedTenantMembershipInline, TenantMembershipInline)

    def get_inlines(self, request: HttpRequest, obj: Tenant | None) -> Any:
        # A new tenant has no copied members.
        return self.inlines if obj is not None else (TenantMembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        tenants: QuerySet[Tenant] = super().get_queryset(request)
        return tenants.annotate(member_total=count_of(Membership.objects.all(), outer="tenant"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, tenant: WithAnnotations[Tenant, _MemberTotal]) -> int:
        return tenant.member_total

    @admin.display(description="copied from", ordering="legacy_source")
    def copied_from(self, obj: Tenant) -> str:
        return origin_link(obj, self.admin_site.name)


@admin.register(Membership)
class MembershipAdmin(CopiedRowsViewOnly, AnyModelAdmin):
    """Who belongs to which tenant, with which role."""

    list_display = ("user", "tenant", "role", "copied_from")
    list_select_related = ("user", "tenant")
    list_filter = ("role", LEGACY_SOURCE_FILTER)
    search_fields = ("user__email", "tenant__slug", "tenant__name", "role")
    autocomplete_fields = ("user", "tenant")
    fields = ("user", "tenant", "role", "copied_from")
    readonly_fields = ("copied_from",)

    @admin.display(description="copied from", ordering="legacy_source")
    def copied_from(self, obj: Membership) -> str:
        return origin_link(obj, self.admin_site.name)


@admin.register(UserOrigin)
class UserOriginAdmin(ReadOnlyMixin, AnyModelAdmin):
    """Which legacy row went into which user: written by the copy only."""

    list_display = ("legacy_row", "user", "legacy_email", "copied_at")
    list_select_related = ("user",)
    list_filter = (("source", IndexedValuesFilter),)  # leads accounts_origin_unique
    show_full_result_count = False  # one row per legacy person row: counted once a page
    paginator = EstimatedCountPaginator
    search_fields = ("legacy_id", "legacy_email", "user__email")
    # Never legacy_password: what the row's hash was when copied is a secret like any hash.
    fields = (
        "user",
        "legacy_row",
        "legacy_email",
        "legacy_active",
        "proven",
        "copied_at",
        "synced_at",
    )
    readonly_fields = fields

    @admin.display(description="legacy row", ordering="source")
    def legacy_row(self, origin: UserOrigin) -> str:
        return legacy_row_link(origin.source, origin.legacy_id, self.admin_site.name)
