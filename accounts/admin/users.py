"""Admin pages for consolidated users and everything that belongs to them.

The user page answers "where did this person come from": every legacy row merged into the
user (each linked to its read-only legacy page), the conflicts between those rows, and the
profile, memberships, API keys and sessions, whichever table they were copied from.

Rows the copy made are its record (``--verify`` compares them with the legacy rows), so
profiles, sessions, tenants and memberships that came from a legacy table are view-only;
the ones created in authcore stay editable. Users and API keys stay editable, but an edit of
a key may only narrow its access (authcore/lib/access_edits.py): a key that should work
again is a new key. Secrets never reach the page (authcore/lib/admin_guard.py, applied to
every admin): the password shows its algorithm only, digests only their first characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, Exists, Model, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from accounts.models import (
    ApiKey,
    LoginSession,
    Membership,
    Profile,
    User,
    UserOrigin,
)
from authcore.lib.admin_lists import DirectActionCheckbox, EstimatedCountPaginator, ReadOnlyMixin
from authcore.lib.admin_types import AnyModelAdmin, AnyStackedInline, AnyTabularInline
from authcore.lib.masking import mask_digest
from legacy.admin import legacy_row_link
from legacy.models import Conflict
from natscreds.admin import NatsVerificationFilter, UserNatsAdminMixin

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # Generic to the type checker only: Django cannot subscript them at run time.
    _CreationForm = AdminUserCreationForm[User]
    _ChangeForm = UserChangeForm[User]
    _DjangoUserAdmin = auth_admin.UserAdmin[User]
else:
    _CreationForm = AdminUserCreationForm
    _ChangeForm = UserChangeForm
    _DjangoUserAdmin = auth_admin.UserAdmin


def count_of(queryset: QuerySet[Any], outer: str = "user") -> Coalesce:
    """How many rows of ``queryset`` point at the outer row, as a correlated subquery.

    A subquery rather than ``Count`` over a join: it is evaluated for the page's rows only
    and never multiplies rows when a list shows several counts.
    """
    counted = (
        queryset.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def origin_link(obj: Model, site_name: str = "admin") -> str:
    """The legacy row a consolidated row was copied from, linked; "—" if made in authcore."""
    source = getattr(obj, "legacy_source", None)
    if not source:
        return "—"
    return legacy_row_link(source, getattr(obj, "legacy_id", None), site_name)


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


class UserCreationAdminForm(_UniqueEmailMixin, _CreationForm):
    """Django's admin creation form with the email as the login."""

    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(_UniqueEmailMixin, _ChangeForm):
    """Django's change form; ``password`` stays its masked read-only summary."""

    class Meta:
        model = User
        fields = "__all__"


class PasswordKindFilter(admin.SimpleListFilter):
    """Which users still carry a hash copied from a legacy table (upgraded at next login)."""

    title = "password"
    # Not "password": a URL parameter naming the password column is refused outright.
    parameter_name = "hash"

    # accounts.hashers algorithm names: a copied legacy hash is stored as "<algorithm>$<hash>".
    LEGACY_PREFIXES = (
        "legacy_bcrypt$",
        "legacy_argon2$",
        "passlib_pbkdf2_sha256$",
        "werkzeug_pbkdf2$",
        "werkzeug_scrypt$",
    )

    def lookups(self, request: HttpRequest, model_admin: AnyModelAdmin) -> list[tuple[str, str]]:
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


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """The values of an indexed, low-cardinality column, found without reading the table.

    Django's ``AllValuesFieldListFilter`` runs ``SELECT DISTINCT column`` on every page
    view: a scan of the whole table (or index), 60 ms at a million users. Here each value
    is one index probe, ``WHERE column > previous ORDER BY column LIMIT 1`` (a "skip scan"),
    plus one for NULL: a handful of probes for the few legacy table keys a column like
    ``legacy_source`` holds. Same choices, same URL parameters as the stock filter.

    Only for a column that leads an index (alone, or first in a multi-column one) and
    holds few distinct values: at most ``MAX_VALUES`` are listed.
    """

    MAX_VALUES = 100

    # Ignored: a list of the values, where Django's is a lazy DISTINCT queryset.
    lookup_choices: list[Any]  # type: ignore[assignment]

    def __init__(
        self,
        field: Any,
        request: HttpRequest,
        params: Any,
        model: Any,
        model_admin: AnyModelAdmin,
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        # The stock filter's lookup_choices is a lazy DISTINCT queryset: replaced, unrun.
        self.lookup_choices = self._values(model_admin.get_queryset(request), field.name)

    def _values(self, queryset: QuerySet[Any], name: str) -> list[Any]:
        column = queryset.prefetch_related(None).order_by(name).values_list(name, flat=True)
        present = column.filter(**{f"{name}__isnull": False})
        values: list[Any] = []
        value = present.first()
        while value is not None and len(values) < self.MAX_VALUES:
            values.append(value)
            value = present.filter(**{f"{name}__gt": value}).first()
        if column.filter(**{f"{name}__isnull": True}).exists():
            values.append(None)  # shown last, as the stock filter's "empty" choice
        return values


LEGACY_SOURCE_FILTER = ("legacy_source", IndexedValuesFilter)
"""The "copied from" filter: every consolidated table indexes ``legacy_source`` first
(the ``(legacy_source, legacy_id)`` unique constraints)."""


class OriginFilter(admin.SimpleListFilter):
    """Where users came from: made here, copied, merged from several rows, or in conflict."""

    title = "origin"
    parameter_name = "origin"

    def lookups(self, request: HttpRequest, model_admin: AnyModelAdmin) -> list[tuple[str, str]]:
        return [
            ("authcore", "created in authcore"),
            ("legacy", "copied from a legacy table"),
            ("merged", "merged from several legacy rows"),
            ("conflicts", "with conflicts between their rows"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        if self.value() == "authcore":
            return queryset.filter(legacy_source__isnull=True)
        if self.value() == "legacy":
            return queryset.filter(legacy_source__isnull=False)
        if self.value() == "merged":
            others = UserOrigin.objects.filter(user=OuterRef("pk")).exclude(
                source=OuterRef("legacy_source"), legacy_id=OuterRef("legacy_id")
            )
            return queryset.filter(Exists(others))
        if self.value() == "conflicts":
            return queryset.filter(Exists(Conflict.objects.filter(user=OuterRef("pk"))))
        return queryset


# ---- Inlines on the user (and tenant) page --------------------------------------------------


class ViewOnlyInline(ReadOnlyMixin, AnyTabularInline):
    """An inline that only shows: written by the copy, a login or the API, never here."""

    extra = 0
    can_delete = False


class UserOriginInline(ViewOnlyInline):
    """The legacy rows merged into this user, the winning row first, each linked."""

    model = UserOrigin
    verbose_name = "legacy origin"
    verbose_name_plural = "legacy origins (the rows merged into this user)"
    fields = ("legacy_row", "legacy_email", "role_in_merge", "copied_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[UserOrigin]:
        return super().get_queryset(request).select_related("user").order_by("copied_at", "id")

    @admin.display(description="legacy row")
    def legacy_row(self, origin: UserOrigin) -> str:
        return legacy_row_link(origin.source, origin.legacy_id, self.admin_site.name)

    @admin.display(description="in the merge")
    def role_in_merge(self, origin: UserOrigin) -> str:
        user = origin.user
        won = (user.legacy_source, user.legacy_id) == (origin.source, origin.legacy_id)
        return "created this user (won)" if won else "merged into it"


class ConflictInline(ViewOnlyInline):
    """Where this person's legacy rows disagreed, which value was kept and why."""

    model = Conflict
    fk_name = "user"
    verbose_name_plural = "conflicts between this user's legacy rows"
    fields = ("field", "losing_row", "winning_row", "kept_value", "other_value", "rule")
    readonly_fields = fields

    @admin.display(description="losing row")
    def losing_row(self, conflict: Conflict) -> str:
        return legacy_row_link(conflict.source, conflict.legacy_id, self.admin_site.name)

    @admin.display(description="winning row")
    def winning_row(self, conflict: Conflict) -> str:
        if conflict.winner_source is None:
            return "—"
        return legacy_row_link(
            conflict.winner_source, conflict.winner_legacy_id, self.admin_site.name
        )


class ProfileInline(AnyStackedInline):
    """The user's profile: editable if made in authcore, shown as copied if copied."""

    model = Profile
    extra = 0
    max_num = 1
    fields = ("bio", "avatar_url", "timezone", "locale", "phone", "preferences", "copied_from")
    readonly_fields = ("copied_from",)

    @admin.display(description="copied from")
    def copied_from(self, obj: Profile) -> str:
        return origin_link(obj, self.admin_site.name)

    def _copied(self, user: User | None) -> bool:
        return (
            user is not None
            and Profile.objects.filter(user=user, legacy_source__isnull=False).exists()
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._copied(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._copied(obj) and super().has_delete_permission(request, obj)


class CopiedMembershipInline(ViewOnlyInline):
    """The user's memberships copied from ``users.client_id``: shown as copied.

    ``other_side`` is the end of the membership the page does not show itself: the
    tenant on a user's page, the user on a tenant's.
    """

    model = Membership
    other_side = "tenant"
    verbose_name = "membership copied from a legacy table"
    verbose_name_plural = "memberships copied from legacy tables"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (self.other_side, "role", "copied_from")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        queryset = super().get_queryset(request).select_related(self.other_side)
        return queryset.filter(legacy_source__isnull=False)

    @admin.display(description="copied from")
    def copied_from(self, obj: Membership) -> str:
        return origin_link(obj, self.admin_site.name)


class MembershipInline(AnyTabularInline):
    """The user's memberships made in authcore: added, changed and removed here."""

    model = Membership
    verbose_name_plural = "memberships added in authcore"
    extra = 0
    fields = ("tenant", "role")
    autocomplete_fields = ("tenant",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        queryset = super().get_queryset(request).select_related("tenant")
        return queryset.filter(legacy_source__isnull=True)


class ApiKeyInline(ViewOnlyInline):
    """The user's API keys, read-only: keys are issued and revoked through the API."""

    model = ApiKey
    show_change_link = True
    fields = (
        "name",
        "prefix",
        "digest_masked",
        "is_active",
        "held",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "copied_from",
    )
    readonly_fields = fields

    @admin.display(description="digest")
    def digest_masked(self, obj: ApiKey) -> str | None:
        return mask_digest(obj.digest)

    @admin.display(description="copied from")
    def copied_from(self, obj: ApiKey) -> str:
        return origin_link(obj, self.admin_site.name)


# What the session pages show (the list and the user page's inline alike).
SESSION_FIELDS = (
    "token_digest_masked",
    "ip_address",
    "user_agent",
    "created_at",
    "last_seen_at",
    "expires_at",
    "revoked_at",
    "held",
    "copied_from",
)


class LoginSessionInline(ViewOnlyInline):
    """The user's login sessions, newest first; the token only as its masked digest."""

    model = LoginSession
    show_change_link = True
    fields = SESSION_FIELDS
    readonly_fields = fields
    ordering = ("-created_at",)

    @admin.display(description="token digest")
    def token_digest_masked(self, obj: LoginSession) -> str | None:
        return mask_digest(obj.token_digest)

    @admin.display(description="copied from")
    def copied_from(self, obj: LoginSession) -> str:
        return origin_link(obj, self.admin_site.name)


# ---- Users --------------------------------------------------------------------------------


class _UserTotals(TypedDict):
    api_key_total: int
    conflict_total: int


@admin.register(User)
class UserAdmin(DirectActionCheckbox, UserNatsAdminMixin, _DjangoUserAdmin):
    """Django's user admin, adapted: email is the login; there is no first or last name.

    The list shows where each user came from and how many keys and conflicts they have,
    from one prefetch and correlated counts: no query per row on any page size. Nothing on
    the list reads the whole table but the page's count: the order comes from an index,
    the filters' choices are fixed or found by index probes.
    """

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
        "legacy_rows",
        "api_key_count",
        "conflict_count",
        "nats_status",
        "date_joined",
    )
    list_filter = (
        "is_active",
        "is_staff",
        "is_superuser",
        "is_verified",
        OriginFilter,
        LEGACY_SOURCE_FILTER,
        PasswordKindFilter,
        NatsVerificationFilter,
        "groups",
    )
    search_fields = ("email", "username", "full_name", "nats_public_key")
    # A total order read straight from accounts_user_email_id_idx: a page of a million
    # users costs an index range, not a sort of the table (with "email" alone, Django
    # appends "-pk" and the order no longer matches the index).
    ordering = ("email", "pk")
    # "N users" comes from the page's own count (an estimate past half a million users,
    # authcore/lib/admin_lists.py). Django's second count of the whole table, run on
    # every view for the "(M total)" it shows beside a search's results, is skipped.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
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
        ("Origin", {"fields": ("created_from",)}),
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
    readonly_fields = ("password_changed_at", "legacy_source", "legacy_id", "created_from")
    inlines = (
        UserOriginInline,
        ConflictInline,
        ProfileInline,
        CopiedMembershipInline,
        MembershipInline,
        ApiKeyInline,
        LoginSessionInline,
    )

    def get_inlines(self, request: HttpRequest, obj: User | None) -> Any:
        # Nothing to list on the add page.
        return self.inlines if obj is not None else ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        origins = UserOrigin.objects.only("id", "user_id", "source").order_by("copied_at", "id")
        users: QuerySet[User] = super().get_queryset(request)
        return users.annotate(
            api_key_total=count_of(ApiKey.objects.all()),
            conflict_total=count_of(Conflict.objects.all()),
        ).prefetch_related(Prefetch("origins", queryset=origins))

    @admin.display(description="legacy rows")
    def legacy_rows(self, user: User) -> str:
        """The legacy tables this user's rows came from, e.g. "users, user ×2"."""
        counts: dict[str, int] = {}
        for origin in user.origins.all():  # prefetched
            counts[origin.source] = counts.get(origin.source, 0) + 1
        return ", ".join(f"{s} ×{n}" if n > 1 else s for s, n in counts.items()) or "—"

    @admin.display(description="API keys", ordering="api_key_total")
    def api_key_count(self, user: WithAnnotations[User, _UserTotals]) -> int:
        return user.api_key_total

    @admin.display(description="conflicts", ordering="conflict_total")
    def conflict_count(self, user: WithAnnotations[User, _UserTotals]) -> int:
        return user.conflict_total

    @admin.display(description="created from")
    def created_from(self, user: User) -> str:
        return origin_link(user, self.admin_site.name)
