"""Admin for NATS: accounts, auth sessions, and the NATS credential on the user page.

Everything here was copied from the legacy tables and is checked against them by
``migrate_legacy_users --verify``, so it is shown read-only. A user's seed hash is never
shown; a JWT only shortened, with its decoded claims beside it. Verification flags (a bad
key, JWT, issuer, signature or expiry) are filterable on users and accounts.

``UserNatsAdminMixin`` is for ``accounts.admin.UserAdmin`` to include (this app does not
own that admin): ``class UserAdmin(UserNatsAdminMixin, auth_admin.UserAdmin)`` and
``NatsVerificationFilter`` in its ``list_filter``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from authcore.lib import nats_checks
from authcore.lib.admin_lists import ReadOnlyMixin
from authcore.lib.admin_types import AnyModelAdmin
from authcore.lib.masking import mask_jwt
from legacy.models import RowIssue
from natscreds.models import NatsAccount, NatsAuthSession

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

CREDENTIALS, ACCOUNTS = "nats_user_credential", "nats_account"  # RowIssue sources

NATS_FIELDSET_TITLE = "NATS credential"
NATS_READONLY_FIELDS = (
    "nats_public_key",
    "nats_account",
    "nats_account_public_key",
    "nats_expires_at",
    "nats_expired_at",
    "nats_jwt_short",
    "nats_claims",
    "nats_verification",
    "nats_legacy_id",
)
NATS_FIELDSET = (NATS_FIELDSET_TITLE, {"fields": NATS_READONLY_FIELDS})
NATS_NEVER_IN_FORMS = ("nats_seed_hash", "nats_jwt", "nats_problems")
"""Raw NATS columns no form ever renders: the seed hash is secret, the other two are
shown through the read-only methods above."""


def shorten_jwt(token: str | None) -> str | None:
    """The first and last characters of a JWT around "…" (authcore.lib.masking)."""
    return mask_jwt(token)


def _claim_dates(claims: dict[str, Any]) -> list[tuple[str, str]]:
    """``iat`` and ``exp`` as dates, where they are plausible timestamps."""
    dates = []
    for name in ("iat", "exp"):
        value = claims.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                dates.append((name, datetime.fromtimestamp(value, tz=UTC).isoformat()))
            except (OverflowError, OSError, ValueError):
                dates.append((name, f"{value} (not a date)"))
    return dates


def _claims_html(token: str | None) -> str:
    if not token:
        return "-"
    claims = nats_checks.claims_of(token)
    if claims is None:
        return format_html("<em>{}</em>", "does not decode as a JWT")
    dates = format_html_join("", "<div>{}: {}</div>", _claim_dates(claims))
    # Claims are public (names, keys, permissions); escaped like any other text.
    return format_html(
        '{}<pre style="white-space: pre-wrap">{}</pre>',
        dates,
        json.dumps(claims, indent=2, sort_keys=True, ensure_ascii=False),
    )


def _flag_details(source: str, legacy_id: str | None, using: str | None) -> list[tuple[str, str]]:
    """(code, detail) of the flags recorded for one legacy row: one query."""
    if legacy_id is None:
        return []
    return list(
        RowIssue.objects.using(using)
        .filter(source=source, legacy_id=legacy_id, reason__in=nats_checks.ALL_CODES)
        .order_by("reason")
        .values_list("reason", "detail")
    )


def _flag_lookup(code: str) -> Q:
    """Users whose ``nats_problems`` lists ``code`` (a comma-separated list)."""
    return Q(nats_problems__regex=rf"(^|,){code}(,|$)")


class NatsVerificationFilter(admin.SimpleListFilter):
    """Users by the verification outcome of their NATS credential, or by one flag."""

    title = "NATS verification"
    parameter_name = "nats"

    def lookups(self, request: HttpRequest, model_admin: AnyModelAdmin) -> list[tuple[str, str]]:
        return [
            ("passed", "passed every check"),
            ("flagged", "flagged"),
            ("unchecked", "not checked"),
            ("none", "no NATS credential"),
            *((code, f"flag: {code}") for code in nats_checks.ALL_CODES),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        has_credential = Q(nats_public_key__isnull=False) | Q(nats_jwt__isnull=False)
        if value == "passed":
            return queryset.filter(nats_problems="")
        if value == "flagged":
            return queryset.filter(nats_problems__isnull=False).exclude(nats_problems="")
        if value == "unchecked":
            return queryset.filter(has_credential, nats_problems__isnull=True)
        if value == "none":
            return queryset.exclude(has_credential)
        if value in nats_checks.ALL_CODES:
            return queryset.filter(_flag_lookup(value))
        return queryset


class UserNatsAdminMixin:
    """Shows a user's NATS credential read-only on the user page (for UserAdmin).

    Adds the "NATS credential" fieldset to the change page, makes its fields read-only,
    and keeps the seed hash out of every form.
    """

    nats_fieldset = NATS_FIELDSET

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is None:
            return fieldsets  # the add page: nothing to show yet
        kept = [fs for fs in fieldsets if fs[0] != NATS_FIELDSET_TITLE]
        return (*kept, self.nats_fieldset)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return readonly + tuple(f for f in NATS_READONLY_FIELDS if f not in readonly)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = tuple(super().get_exclude(request, obj) or ())  # type: ignore[misc]
        return exclude + tuple(f for f in NATS_NEVER_IN_FORMS if f not in exclude)

    @admin.display(description="JWT")
    def nats_jwt_short(self, obj: Any) -> str | None:
        return shorten_jwt(obj.nats_jwt)

    @admin.display(description="JWT claims (decoded, not verified here)")
    def nats_claims(self, obj: Any) -> str:
        return _claims_html(obj.nats_jwt)

    @admin.display(description="verification")
    def nats_verification(self, obj: Any) -> str:
        if obj.nats_problems is None:
            return "no NATS credential" if obj.nats_jwt is None else "not checked"
        if obj.nats_problems == "":
            return "passed every check (nkeys, JWT sub, iss, signature, exp)"
        details = dict(_flag_details(CREDENTIALS, obj.nats_legacy_id, obj._state.db))
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> {}</li>",
                ((code, details.get(code, "")) for code in obj.nats_problems.split(",")),
            ),
        )

    @admin.display(description="NATS")
    def nats_status(self, obj: Any) -> str:
        """A list_display column: passed, the flags, or nothing."""
        if obj.nats_problems is None:
            return "" if obj.nats_jwt is None else "not checked"
        return obj.nats_problems or "passed"


class AccountFlagFilter(admin.SimpleListFilter):
    """Accounts whose keys failed the checks when they were copied."""

    title = "NATS verification"
    parameter_name = "nats"

    def lookups(self, request: HttpRequest, model_admin: AnyModelAdmin) -> list[tuple[str, str]]:
        return [("passed", "passed every check"), ("flagged", "flagged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        issues = RowIssue.objects.filter(
            source=ACCOUNTS, legacy_id=OuterRef("legacy_id"), reason__in=nats_checks.ALL_CODES
        )
        if self.value() == "flagged":
            return queryset.filter(Exists(issues), legacy_source=ACCOUNTS)
        if self.value() == "passed":
            return queryset.filter(legacy_source=ACCOUNTS).exclude(Exists(issues))
        return queryset


class _UserTotal(TypedDict):
    user_total: int


@admin.register(NatsAccount)
class NatsAccountAdmin(ReadOnlyMixin, AnyModelAdmin):
    """NATS accounts, with how many users carry a credential of each; copied rows, changed
    only by the copy (and its reverse)."""

    list_display = (
        "name",
        "public_key",
        "signing_key_public",
        "user_count",
        "created_at",
        "legacy_source",
        "legacy_id",
    )
    list_filter = (AccountFlagFilter, "legacy_source")
    search_fields = ("name", "public_key", "signing_key_public")
    fields = (
        "name",
        "public_key",
        "signing_key_public",
        "jwt_short",
        "claims",
        "verification",
        "created_at",
        "legacy_source",
        "legacy_id",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[NatsAccount]:
        accounts: QuerySet[NatsAccount] = super().get_queryset(request)
        return accounts.annotate(user_total=Count("users", distinct=True))

    @admin.display(description="users", ordering="user_total")
    def user_count(self, obj: WithAnnotations[NatsAccount, _UserTotal]) -> int:
        return obj.user_total

    @admin.display(description="JWT")
    def jwt_short(self, obj: NatsAccount) -> str | None:
        return shorten_jwt(obj.jwt)

    @admin.display(description="JWT claims (decoded, not verified here)")
    def claims(self, obj: NatsAccount) -> str:
        return _claims_html(obj.jwt)

    @admin.display(description="verification")
    def verification(self, obj: NatsAccount) -> str:
        if obj.legacy_source != ACCOUNTS:
            return "-"
        flags = _flag_details(ACCOUNTS, obj.legacy_id, obj._state.db)
        if not flags:
            return "passed every check (account and signing keys are account nkeys)"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li><strong>{}</strong> {}</li>", flags),
        )


class SessionStateFilter(admin.SimpleListFilter):
    """Open, closed or expired sessions."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: AnyModelAdmin) -> list[tuple[str, str]]:
        return [("open", "open"), ("closed", "closed"), ("expired", "expired, not closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        not_expired = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        if self.value() == "open":
            return queryset.filter(not_expired, closed_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(closed_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(NatsAuthSession)
class NatsAuthSessionAdmin(ReadOnlyMixin, AnyModelAdmin):
    """NATS auth sessions, on the consolidated user and the account."""

    list_display = (
        "id",
        "user",
        "account",
        "client_id",
        "ip_address",
        "created_at",
        "expires_at",
        "closed_at",
        "legacy_source",
    )
    list_select_related = ("user", "account")
    list_filter = (SessionStateFilter, "account", "legacy_source")
    search_fields = ("user__email", "client_id", "ip_address", "account__name")
    date_hierarchy = "created_at"
    fields = (
        "user",
        "account",
        "client_id",
        "ip_address",
        "created_at",
        "expires_at",
        "closed_at",
        "legacy_source",
        "legacy_id",
    )
    readonly_fields = fields
