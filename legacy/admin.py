"""Read-only admin pages for the legacy tables and for what the copy wrote about itself.

The legacy tables belong to the old services: nothing here can add, change or delete a row.
A deployment's real tables drift from the models (legacy-schema.md, "May vary"): a declared
column may be missing, the password column may have another name, a whole source may be
absent. Every legacy page is therefore built from the columns that really exist, looked up
once per request. Secrets never reach a page: digests are cut to their first characters and
a password hash shows only its format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models, router
from django.db.models import F, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.related import ForeignKey
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from accounts.admin import mask_digest
from authcore.lib import hash_formats
from legacy.models import (
    AuthClient,
    AuthUser,
    AuthUserApiKey,
    Conflict,
    CopyRun,
    FastapiUser,
    NatsAccount,
    NatsAuthSession,
    NatsUserCredential,
    RowIssue,
    SharedUser,
    SharedUserApiKey,
    SharedUserProfile,
    SharedUserSession,
)

SECRET_FIELDS = frozenset(
    {"password_hash", "hashed_password", "key_hash", "token_hash", "seed_hash"}
)
"""Legacy fields never shown as they are (a masked method shows them instead, if at all)."""

PASSWORD_VALUE = "legacy_password_value"
"""Annotation carrying the stored password hash, whatever its column is called."""


# ---- What the database really has ---------------------------------------------------------


class _FoundSchema:
    """What one request has found out about the legacy tables, asked lazily."""

    def __init__(self) -> None:
        self.tables: dict[str, frozenset[str]] = {}
        self.columns: dict[tuple[str, str], frozenset[str] | None] = {}

    def columns_of(self, model: type[models.Model]) -> frozenset[str] | None:
        alias = router.db_for_read(model)
        table = model._meta.db_table
        if (alias, table) not in self.columns:
            connection = connections[alias]
            with connection.cursor() as cursor:
                if alias not in self.tables:
                    self.tables[alias] = frozenset(
                        connection.introspection.table_names(cursor, include_views=True)
                    )
                # Describing a missing table would be an error (and, on PostgreSQL, would
                # abort the transaction), so look in the table list first.
                found = None
                if table in self.tables[alias]:
                    description = connection.introspection.get_table_description(cursor, table)
                    found = frozenset(column.name for column in description)
            self.columns[(alias, table)] = found
        return self.columns[(alias, table)]


def legacy_columns(request: HttpRequest, model: type[models.Model]) -> frozenset[str] | None:
    """The columns of ``model``'s table as the database has them; None if there is no table.

    Looked up at most once per table per request and kept on the request: cheap enough,
    and never stale, since a deployment may gain or lose a legacy table at any time.
    """
    schema = getattr(request, "_legacy_schema", None)
    if schema is None:
        schema = _FoundSchema()
        request._legacy_schema = schema  # type: ignore[attr-defined]
    return schema.columns_of(model)


# ---- Column builders shared by the legacy pages ---------------------------------------------


def related_link(fk_name: str) -> Callable[[Any, models.Model], str | None]:
    """A column showing the row that foreign key ``fk_name`` points at, linked to its page.

    Reads only the key itself and the row ``get_queryset`` prefetched, so it never runs a
    query per row (nor fails when the other table is missing or drifted).
    """

    @admin.display(description=fk_name.replace("_", " "), ordering=f"{fk_name}_id")
    def show(self: ReadOnlyLegacyAdmin, obj: models.Model) -> str | None:
        return self.link_to_related(obj, fk_name)

    show.legacy_field = fk_name  # type: ignore[attr-defined]
    show.__name__ = f"{fk_name}_link"
    return show


def masked(field_name: str) -> Callable[[Any, models.Model], str | None]:
    """A column showing only the first characters of digest ``field_name``."""

    @admin.display(description=f"{field_name.replace('_', ' ')} (start)")
    def show(self: ReadOnlyLegacyAdmin, obj: models.Model) -> str | None:
        return mask_digest(getattr(obj, field_name))

    show.legacy_field = field_name  # type: ignore[attr-defined]
    show.__name__ = f"{field_name}_masked"
    return show


# ---- Base classes -------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff with the view permission; never added to, changed or deleted."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyLegacyAdmin(ReadOnlyAdmin):
    """A legacy table, shown through the columns it really has.

    Subclasses declare ``list_display`` / ``search_fields`` / ``list_filter`` for the full
    schema; whatever reads a missing column is left out per request. The detail page lists
    every existing column in model order, foreign keys as ``<name>_link`` and digests as
    ``<name>_masked`` columns (declared with ``related_link`` / ``masked``). The rows that
    links point at are prefetched, one query per key and page, never one per row.
    """

    label_field = "id"
    """The field a link to one of this table's rows shows (e.g. the email)."""
    password_columns: tuple[str, ...] = ()
    """Candidate names of the password-hash column, first match wins (drift renames it)."""

    # ---- the queryset

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        columns = legacy_columns(request, self.model)
        if columns is None:
            return queryset.none()
        loaded = [
            field.name
            for field in self.model._meta.concrete_fields
            if field.column in columns and field.column not in self.password_columns
        ]
        queryset = queryset.only(*loaded)
        for fk_name in self._linkable(request):
            queryset = queryset.prefetch_related(self._prefetch(request, fk_name))
        password = self._password_column(columns)
        if password is not None:
            queryset = queryset.annotate(**{PASSWORD_VALUE: self._column_expression(password)})
        return queryset

    def get_list_select_related(self, request: HttpRequest) -> Sequence[str]:
        # A join would hide rows whose key points nowhere (INNER JOIN on a non-null key), and
        # legacy keys are not guaranteed: the rows a link points at are prefetched instead.
        return ()

    def _linkable(self, request: HttpRequest) -> list[str]:
        """The foreign keys whose column exists and whose target table exists."""
        columns = legacy_columns(request, self.model) or frozenset()
        return [
            field.name
            for field in self.model._meta.concrete_fields
            if isinstance(field, ForeignKey)
            and field.column in columns
            and legacy_columns(request, field.related_model) is not None
        ]

    def _prefetch(self, request: HttpRequest, fk_name: str) -> Prefetch:
        """One query per page for the rows behind ``fk_name``: their key and label only."""
        related = self.model._meta.get_field(fk_name).related_model
        related_columns = legacy_columns(request, related) or frozenset()
        loaded = [related._meta.pk.name]
        label = self._label_field(related)
        if label is not None and related._meta.get_field(label).column in related_columns:
            loaded.append(label)
        return Prefetch(fk_name, queryset=related._default_manager.only(*loaded))

    def _column_expression(self, column: str) -> F | RawSQL:
        """The column by name: through its model field if declared, else as raw SQL."""
        for field in self.model._meta.concrete_fields:
            if field.column == column:
                return F(field.name)
        # A renamed column (drift) the model does not declare; both names are quoted.
        quote_name = connections[router.db_for_read(self.model)].ops.quote_name
        return RawSQL(f"{quote_name(self.model._meta.db_table)}.{quote_name(column)}", ())

    def _password_column(self, columns: frozenset[str]) -> str | None:
        return next((name for name in self.password_columns if name in columns), None)

    # ---- what is shown, per request

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        columns = legacy_columns(request, self.model) or frozenset()
        return [name for name in self.list_display if self._shows(name, columns)]

    def get_list_filter(self, request: HttpRequest) -> Sequence[Any]:
        columns = legacy_columns(request, self.model) or frozenset()
        return [name for name in self.list_filter if self._shows(name, columns)]

    def get_search_fields(self, request: HttpRequest) -> Sequence[str]:
        return [path for path in self.search_fields if self._searchable(request, path)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        columns = legacy_columns(request, self.model) or frozenset()
        names: list[str] = []
        for field in self.model._meta.concrete_fields:
            if field.column in self.password_columns:
                name = "password_format"
            elif field.name in SECRET_FIELDS:
                name = f"{field.name}_masked"
            elif field.is_relation:
                name = f"{field.name}_link"
            else:
                name = field.name
            if name not in names and self._shows(name, columns):
                names.append(name)
        return names

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        return self.get_fields(request, obj)

    def _shows(self, item: Any, columns: frozenset[str]) -> bool:
        """Whether a list/detail/filter item can be shown: it reads only existing columns."""
        name = item[0] if isinstance(item, tuple | list) else item
        if not isinstance(name, str):
            return True  # a SimpleListFilter class: it declares what it reads itself
        if name == "password_format":
            return self._password_column(columns) is not None
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            attr = getattr(self, name, None)
            if attr is None:
                return False  # e.g. a <fk>_link the subclass did not declare
            name = getattr(attr, "legacy_field", None)
            if name is None:
                return True
            field = self.model._meta.get_field(name)
        else:
            if field.name in SECRET_FIELDS or isinstance(field, ForeignKey):
                return False  # shown through a masked or link column, never as is
        return field.column in columns

    def _searchable(self, request: HttpRequest, path: str) -> bool:
        """Whether every column along ``path`` (e.g. ``user__email``) exists."""
        model = self.model
        parts = path.lstrip("^=@").split("__")
        for position, part in enumerate(parts):
            columns = legacy_columns(request, model)
            try:
                field = model._meta.get_field(part)
            except FieldDoesNotExist:
                return False
            if columns is None or field.column not in columns or field.name in SECRET_FIELDS:
                return False
            if field.is_relation:
                model = field.related_model
            elif position != len(parts) - 1:
                return False
        return True

    # ---- columns

    @admin.display(description="password hash format")
    def password_format(self, obj: models.Model) -> str:
        """The census label of the stored hash (e.g. "bcrypt"), never the hash itself."""
        return hash_formats.classify(getattr(obj, PASSWORD_VALUE, None))

    def link_to_related(self, obj: models.Model, fk_name: str) -> str | None:
        field = self.model._meta.get_field(fk_name)
        key = getattr(obj, field.attname)
        if key is None:
            return None
        label = str(key)
        related = field.get_cached_value(obj, default=None)
        label_field = self._label_field(field.related_model)
        if (
            related is not None
            and label_field is not None
            and label_field not in related.get_deferred_fields()
        ):
            label = str(getattr(related, label_field))
        opts = field.related_model._meta
        try:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=[quote(key)],
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    def _label_field(self, model: type[models.Model]) -> str | None:
        model_admin = self.admin_site._registry.get(model)
        return getattr(model_admin, "label_field", None)

    # ---- views

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if legacy_columns(request, self.model) is None:
            self.message_user(
                request,
                f"This database has no table {self.model._meta.db_table!r}: "
                "this legacy source is not part of the deployment, so there is nothing to show.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


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
    list_filter = ("is_active", "role")
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


# ---- The copy's own bookkeeping -------------------------------------------------------------


@admin.register(CopyRun)
class CopyRunAdmin(ReadOnlyAdmin):
    """Every run of the copy, newest first, with its report."""

    list_display = ("started_at", "trigger", "sources", "dry_run", "outcome", "finished_at")
    list_filter = ("outcome", "trigger", "dry_run")
    ordering = ("-started_at",)


@admin.register(RowIssue)
class RowIssueAdmin(ReadOnlyAdmin):
    """Legacy rows the copy rejected or copied with a warning."""

    list_display = ("source", "legacy_id", "kind", "reason", "detail", "first_seen_at")
    list_filter = ("kind", "reason", "source")
    search_fields = ("legacy_id", "detail")
    ordering = ("-first_seen_at",)


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    """Fields on which one person's legacy rows disagreed, and which value won."""

    list_display = (
        "user",
        "field",
        "source",
        "legacy_id",
        "winner_source",
        "winner_legacy_id",
        "kept_value",
        "other_value",
        "rule",
    )
    list_select_related = ("user",)
    list_filter = ("field", "source")
    search_fields = ("user__email", "legacy_id", "winner_legacy_id")
    ordering = ("-detected_at",)
