"""Read-only admin pages for the legacy tables and for what the copy wrote about itself.

The legacy tables belong to the old services: nothing here can add, change or delete a row.
A deployment's real tables drift from the models (legacy-schema.md, "May vary"): a declared
column may be missing, the password column may have another name, a whole source may be
absent. Every legacy page is therefore built from the columns that really exist, looked up
once per request. Secrets never reach a page: digests are cut to their first characters and
a password hash shows only its format.

Every legacy row also shows what the copy made of it (the consolidated row it became, or
the recorded reasons why not), and the legacy overview counts that per table, set-based,
with the same rule ``--verify`` uses for rows that are not accounted for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import connections, models, router
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.related import ForeignKey
from django.db.models.functions import Cast, Lower
from django.db.models.lookups import Exact, In, IsNull
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import User, UserOrigin
from authcore.lib import hash_formats
from authcore.lib.admin_lists import EstimatedCountPaginator
from authcore.lib.emails import TRIMMED_CHARACTERS
from authcore.lib.masking import mask_digest, mask_jwt
from authcore.lib.secret_fields import is_secret, secret_fields_of
from legacy.engine.issues import REJECTED, WARNING
from legacy.engine.people import ROLE_BLANKS
from legacy.engine.schema import LEGACY_MODELS
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


# ---- What the copy made of each legacy row ------------------------------------------------

PEOPLE, ROWS, CARRIED = "people", "rows", "carried"
SUPERSEDED = "credential_superseded"
"""legacy.engine.nats's RowIssue reason for a credential row another row of the person beat."""


@dataclass(frozen=True)
class CopyTarget:
    """Where the copy records what became of one legacy table's rows.

    ``people``: each valid row is a UserOrigin; the row that created its user is copied,
    every other row of that person merged. ``rows``: each copied row is a row of ``model``
    with ``legacy_source`` = the table key and ``legacy_id``. ``carried``: the winning row's
    values moved onto a row of ``model`` whose ``field`` names it; the person's other rows
    are recorded as superseded (merged).
    """

    kind: str
    model: str
    field: str = "legacy_id"

    def resolve(self) -> type[models.Model] | None:
        """The model, or None where this deployment's code has no such model or field."""
        try:
            model = apps.get_model(self.model)
            model._meta.get_field(self.field)
        except (LookupError, FieldDoesNotExist):
            return None
        return model


COPY_TARGETS: dict[str, CopyTarget] = {
    "clients": CopyTarget(ROWS, "accounts.Tenant"),
    "users": CopyTarget(PEOPLE, "accounts.User"),
    "user_api_keys": CopyTarget(ROWS, "accounts.ApiKey"),
    "user": CopyTarget(PEOPLE, "accounts.User"),
    "user_api_key": CopyTarget(ROWS, "accounts.ApiKey"),
    "user_profile": CopyTarget(ROWS, "accounts.Profile"),
    "user_session": CopyTarget(ROWS, "accounts.LoginSession"),
    "fu_users": CopyTarget(PEOPLE, "accounts.User"),
    "nats_account": CopyTarget(ROWS, "natscreds.NatsAccount"),
    "nats_user_credential": CopyTarget(CARRIED, "accounts.User", field="nats_legacy_id"),
    "nats_auth_session": CopyTarget(ROWS, "natscreds.NatsAuthSession"),
}
"""Legacy table key -> where its copies are. A table not listed has no copy step (yet)."""

TABLE_KEYS = {name: key for key, name in LEGACY_MODELS.items()}
"""Legacy model name -> its table key (the table's name in legacy-schema.md)."""

COPY_STATUSES = {
    "copied": "copied",
    "merged": "merged (another row of the person won)",
    "rejected": "rejected",
    "warning": "copied with a warning",
    "unaccounted": "not accounted for",
}
"""What the copy made of a legacy row, as the copy filter and the overview name it."""


class Accounting:
    """What the copy made of one legacy table's rows, as conditions on the table's ``pk``.

    The rule is legacy.engine.verify.unaccounted's: a row is accounted for when the copy
    recorded it (an origin, a consolidated row with its ``legacy_id``, a superseded
    credential) or rejected it with a reason. Legacy ids are the key cast to text by the
    database, as the engine stores them. Everything here is a correlated subquery:
    set-based, never a query per row.
    """

    def __init__(self, key: str, target: CopyTarget, model: type[models.Model]) -> None:
        self.key = key
        self.target = target
        self.model = model

    @classmethod
    def of(cls, key: str) -> Accounting | None:
        """The accounting of legacy table ``key``; None where no copy step reads it."""
        target = COPY_TARGETS.get(key)
        model = target.resolve() if target is not None else None
        return None if model is None else cls(key, target, model)

    @staticmethod
    def _legacy_id() -> Cast:
        return Cast(OuterRef("pk"), output_field=models.TextField())

    def records(self) -> QuerySet[Any]:
        """What the copy wrote for the outer row: its origins, or its copied rows."""
        if self.target.kind == PEOPLE:
            return UserOrigin.objects.filter(source=self.key, legacy_id=self._legacy_id())
        lookup = {self.target.field: self._legacy_id()}
        if self.target.kind == ROWS:
            lookup["legacy_source"] = self.key
        return self.model._default_manager.filter(**lookup)

    @property
    def became_model(self) -> type[models.Model]:
        """The model of what a copied row became (the user, for people)."""
        return User if self.target.kind == PEOPLE else self.model

    def _copied(self) -> Exists:
        """The row created (or is carried by) a consolidated row: for people, it won."""
        if self.target.kind == PEOPLE:
            return Exists(User.objects.filter(legacy_source=self.key, legacy_id=self._legacy_id()))
        return Exists(self.records())

    def _merged(self) -> Q:
        if self.target.kind == PEOPLE:
            return Q(Exists(self.records())) & ~Q(self._copied())
        if self.target.kind == CARRIED:
            return Q(self._issue(reason=SUPERSEDED))
        return Q(pk__in=[])  # rows of other tables are never merged

    def _issue(self, **lookup: str) -> Exists:
        return Exists(
            RowIssue.objects.filter(source=self.key, legacy_id=self._legacy_id(), **lookup)
        )

    def statuses(self) -> list[str]:
        """The statuses this table's rows can have (only some tables merge)."""
        merges = self.target.kind in (PEOPLE, CARRIED)
        return [status for status in COPY_STATUSES if status != "merged" or merges]

    def condition(self, status: str) -> Q:
        """The rows with ``status`` (a key of COPY_STATUSES)."""
        rejected = Q(self._issue(kind=REJECTED))
        if status == "copied":
            if self.target.kind == PEOPLE:  # the origin too: a row is copied once, in one way
                return Q(Exists(self.records())) & Q(self._copied())
            return Q(self._copied())
        if status == "merged":
            return self._merged()
        if status == "rejected":
            return rejected
        if status == "warning":
            return Q(self._issue(kind=WARNING))
        if status == "unaccounted":
            accounted = Exists(self.records())
            if self.target.kind == CARRIED:
                return ~Q(accounted) & ~self._merged() & ~rejected
            return ~Q(accounted) & ~rejected
        raise ValueError(f"unknown copy status {status!r}")

    def counts(self, queryset: QuerySet[Any]) -> dict[str, int]:
        """The rows, and the rows of each status: one COUNT query each.

        Separate queries rather than one aggregate with FILTERs: in a WHERE clause the
        database turns each EXISTS into a semi- or anti-join (measured: 0.2 s instead of
        1.6 s for 100,000 rows on PostgreSQL), where a FILTER probes row by row.
        """
        counts = {"rows": queryset.count()}
        for status in self.statuses():
            counts[status] = queryset.filter(self.condition(status)).count()
        return counts

    def annotations(self) -> dict[str, Any]:
        """Each row's status, for the rows of one page."""
        became = self.records().values("user_id" if self.target.kind == PEOPLE else "pk")
        return {
            "copy_legacy_id": Cast("pk", output_field=models.TextField()),
            "copy_became": Subquery(became[:1]),
            "copy_created": self._copied(),
            "copy_merged": self._merged() if self.target.kind == CARRIED else Value(False),
            "copy_rejected": self._issue(kind=REJECTED),
            "copy_warned": self._issue(kind=WARNING),
        }


def change_url(obj_or_model: Any, pk: Any, site_name: str = "admin") -> str | None:
    """The admin change page of ``pk`` of a model (None where the admin has no such page)."""
    opts = obj_or_model._meta
    try:
        return reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)])
    except NoReverseMatch:
        return None


def legacy_row_url(source: str, legacy_id: str, site_name: str = "admin") -> str | None:
    """The read-only admin page of legacy row ``source#legacy_id``; None for no such table."""
    name = LEGACY_MODELS.get(source)
    if name is None or legacy_id is None:
        return None
    return change_url(apps.get_model("legacy", name), legacy_id, site_name)


def legacy_row_link(source: str, legacy_id: str | None, site_name: str = "admin") -> str:
    """``source#legacy_id``, linked to the legacy row's page where there is one."""
    if legacy_id is None:
        return "—"
    url = legacy_row_url(source, legacy_id, site_name)
    label = f"{source}#{legacy_id}"
    return format_html('<a href="{}">{}</a>', url, label) if url else label


def issues_url(site_name: str = "admin", **filters: str) -> str:
    """The row-issue list, filtered (e.g. ``source="users", kind="rejected"``)."""
    return f"{reverse(f'{site_name}:legacy_rowissue_changelist')}?{urlencode(filters)}"


class CopyStatusFilter(admin.SimpleListFilter):
    """Legacy rows by what the copy made of them; "not accounted for" should be empty."""

    title = "copy"
    parameter_name = "copy"

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        self.accounting: Accounting | None = model_admin.accounting
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        statuses = self.accounting.statuses() if self.accounting is not None else []
        return [(status, COPY_STATUSES[status]) for status in statuses]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.accounting is not None and self.value() in self.accounting.statuses():
            return queryset.filter(self.accounting.condition(self.value()))
        return queryset


class TrimBlanks(models.Func):
    """``expression`` without leading and trailing blanks, as the copy trims (not only spaces)."""

    function = "TRIM"
    output_field = models.CharField()

    def __init__(self, expression: Any, blanks: str = TRIMMED_CHARACTERS) -> None:
        super().__init__(expression, Value(blanks))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="BTRIM", **extra)


def role_key(field_path: str) -> Lower:
    """A legacy role as the group it stands for: legacy.engine.people.role_key, in the ORM."""
    return Lower(TrimBlanks(F(field_path), ROLE_BLANKS))


class LegacyRoleFilter(admin.FieldListFilter):
    """Legacy rows by role, as the copy reads roles: trimmed and case-folded, one group each.

    The choices are the groups the copy made from roles (``accounts.RoleGroup``: a handful
    of rows), never ``SELECT DISTINCT role`` over the legacy table: that reads every row of
    a table that has no index on the column (and is not ours to index), 150 ms a page view
    at a million rows. A choice lists every spelling of its role (" Admin", "admin"). A role
    no group stands for (one found only on rows that lost a merge, were rejected, or came
    after the last copy) falls under "other", which shows the raw values in the list. The
    exact raw value is still ``?role=<value>``.

    Used as ``("role", LegacyRoleFilter)``, so a deployment without the column has no filter.
    """

    OTHER = "other"

    def __init__(
        self,
        field: Any,
        request: HttpRequest,
        params: Any,
        model: Any,
        model_admin: Any,
        field_path: str,
    ) -> None:
        self.lookup_kwarg = f"{field_path}_group"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_val = self.used_parameters.get(self.lookup_kwarg)
        if isinstance(self.lookup_val, list):
            self.lookup_val = self.lookup_val[-1] if self.lookup_val else None
        self.title = f"{self.title} (as a group)"
        self.groups = list(
            Group.objects.filter(legacy_role__isnull=False)
            .order_by("name")
            .values_list("name", flat=True)
        )

    def expected_parameters(self) -> list[str]:
        return [self.lookup_kwarg]

    def _condition(self, value: str) -> Q:
        key = role_key(self.field_path)
        if value == self.OTHER:
            # NULL (a drifted, nullable column) is no group's either.
            if not self.groups:
                return Q()
            return Q(IsNull(key, True)) | ~Q(In(key, self.groups))
        return Q(Exact(key, value))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.lookup_val is None:
            return queryset
        return queryset.filter(self._condition(self.lookup_val))

    def _choices(self) -> list[tuple[str, str]]:
        return [*((name, name) for name in self.groups), (self.OTHER, "other (no group)")]

    def get_facet_counts(self, pk_attname: str, filtered_qs: QuerySet[Any]) -> dict[str, Any]:
        return {
            f"{i}__c": Count(pk_attname, filter=self._condition(value))
            for i, (value, _title) in enumerate(self._choices())
        }

    def choices(self, changelist: Any) -> Any:
        facets = self.get_facet_queryset(changelist) if changelist.add_facets else None
        yield {
            "selected": self.lookup_val is None,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg]),
            "display": _("All"),
        }
        for i, (value, title) in enumerate(self._choices()):
            yield {
                "selected": self.lookup_val == value,
                "query_string": changelist.get_query_string({self.lookup_kwarg: value}),
                "display": f"{title} ({facets[f'{i}__c']})" if facets else title,
            }


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


def masked(
    field_name: str, mask: Callable[[str | None], str | None] = mask_digest, shown: str = "start"
) -> Callable[[Any, models.Model], str | None]:
    """A column showing only a few characters of secret ``field_name`` (a digest's first)."""

    @admin.display(description=f"{field_name.replace('_', ' ')} ({shown})")
    def show(self: ReadOnlyLegacyAdmin, obj: models.Model) -> str | None:
        return mask(getattr(obj, field_name))

    show.legacy_field = field_name  # type: ignore[attr-defined]
    show.__name__ = f"{field_name}_masked"
    return show


# ---- Base classes -------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff with the view permission; never added to, changed or deleted.

    These tables run to millions of rows: a page counts its rows once, not a second time
    for the whole table (Django's "N results (M total)" under a search or filter), and an
    unfiltered page of a very large table shows an estimate (authcore/lib/admin_lists.py).
    """

    actions = None
    show_full_result_count = False
    paginator = EstimatedCountPaginator

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

    @property
    def table_key(self) -> str:
        """The table's key (its name in legacy-schema.md), as RowIssue and origins name it."""
        return TABLE_KEYS[self.model.__name__]

    @property
    def accounting(self) -> Accounting | None:
        """What the copy made of this table's rows; None where no copy step reads it."""
        return Accounting.of(self.table_key)

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
        if self.accounting is not None:
            queryset = queryset.annotate(**self.accounting.annotations())
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
        shown = [name for name in self.list_display if self._shows(name, columns)]
        if self.accounting is None:
            return shown
        # Early in the row: wide legacy lists scroll, and this is what people look for.
        return [*shown[:2], "copy_status", *shown[2:]]

    def get_list_filter(self, request: HttpRequest) -> Sequence[Any]:
        columns = legacy_columns(request, self.model) or frozenset()
        shown = [name for name in self.list_filter if self._shows(name, columns)]
        return [CopyStatusFilter, *shown] if self.accounting is not None else shown

    def get_search_fields(self, request: HttpRequest) -> Sequence[str]:
        return [path for path in self.search_fields if self._searchable(request, path)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        columns = legacy_columns(request, self.model) or frozenset()
        names: list[str] = []
        for field in self.model._meta.concrete_fields:
            if field.column in self.password_columns:
                name = "password_format"
            elif field.name in secret_fields_of(self.model._meta.label):
                name = f"{field.name}_masked"
            elif field.is_relation:
                name = f"{field.name}_link"
            else:
                name = field.name
            if name not in names and self._shows(name, columns):
                names.append(name)
        return names

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        return [*self.get_fields(request, obj), "copy_outcome"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[tuple[Any, Any]]:
        # What the copy made of the row comes first: it is why someone opens a legacy row.
        return [
            ("What the copy made of this row", {"fields": ["copy_outcome"]}),
            (
                f"The legacy row ({self.model._meta.db_table})",
                {"fields": self.get_fields(request, obj)},
            ),
        ]

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
            if is_secret(self.model._meta.label, field.name) or isinstance(field, ForeignKey):
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
            if columns is None or field.column not in columns:
                return False
            if is_secret(model._meta.label, field.name):
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

    @admin.display(description="copy")
    def copy_status(self, obj: models.Model) -> str:
        """Copied / merged (linked to what it became), rejected (linked to why), or neither."""
        accounting = self.accounting
        assert accounting is not None
        site = self.admin_site.name
        why = {"source": self.table_key, "legacy_id": obj.copy_legacy_id}
        parts = []
        if obj.copy_became is not None:
            status = "copied" if obj.copy_created else "merged"
            url = change_url(accounting.became_model, obj.copy_became, site)
            parts.append(format_html('<a href="{}">{}</a>', url, status) if url else status)
        elif obj.copy_merged:
            parts.append(
                format_html('<a href="{}">merged</a>', issues_url(site, **why, kind="all"))
            )
        elif obj.copy_rejected:
            parts.append(format_html('<a href="{}">rejected</a>', issues_url(site, **why)))
        else:
            parts.append(format_html("<strong>{}</strong>", COPY_STATUSES["unaccounted"]))
        if obj.copy_warned:
            url = issues_url(site, **why, kind=WARNING)
            parts.append(format_html('<a href="{}">warning</a>', url))
        return format_html_join(", ", "{}", ((part,) for part in parts))

    @admin.display(description="what the copy made of it")
    def copy_outcome(self, obj: models.Model) -> str:
        """The consolidated row this row became, or every recorded reason why it did not."""
        accounting = self.accounting
        if accounting is None:
            return "No copy step reads this table: its rows are shown as they are."
        site = self.admin_site.name
        legacy_id = obj.copy_legacy_id
        became = winner = None
        if obj.copy_became is not None:
            manager = accounting.became_model._default_manager
            became_obj = manager.filter(pk=obj.copy_became).first()
            if became_obj is not None:
                became = {
                    "object": became_obj,
                    "owner": getattr(became_obj, "user", None),
                    "url": change_url(became_obj, became_obj.pk, site),
                    "verbose_name": became_obj._meta.verbose_name,
                }
                if accounting.target.kind == PEOPLE and not obj.copy_created:
                    winner = legacy_row_link(became_obj.legacy_source, became_obj.legacy_id, site)
        issues = list(RowIssue.objects.filter(source=self.table_key, legacy_id=legacy_id))
        conflicts = Conflict.objects.filter(source=self.table_key, legacy_id=legacy_id)
        status = None
        if became is not None:
            status = "copied" if obj.copy_created else "merged"
        elif obj.copy_merged:
            status = "superseded"
        return render_to_string(
            "admin/legacy/copy_outcome.html",
            {
                "status": status,
                "became": became,
                "winner": winner,
                "issues": [(issue, change_url(issue, issue.pk, site)) for issue in issues],
                "conflicts": [
                    (conflict, change_url(conflict, conflict.pk, site)) for conflict in conflicts
                ],
                "rejected": any(issue.kind == REJECTED for issue in issues),
            },
        )

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
    list_filter = ("is_active", ("role", LegacyRoleFilter))
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
    jwt_masked = masked("jwt", mask_jwt, shown="shortened")


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
    jwt_masked = masked("jwt", mask_jwt, shown="shortened")


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

REPORT_COLUMNS = ("rows", "copied", "merged", "rejected", "warnings", "already_done")
"""The per-table numbers of a run's report (legacy.engine.report.TableResult)."""


def report_view(run: CopyRun, site_name: str = "admin") -> dict[str, Any]:
    """A run's report and verification JSON as rows and links for the run's page.

    Reads only the JSON (older runs may lack keys), so a report is shown as it was written.
    """
    report = run.report or {}
    tables = []
    for key, result in sorted((report.get("tables") or {}).items(), key=_table_order):
        row: dict[str, Any] = {"key": key, "url": _changelist_url(key, site_name)}
        row["values"] = [result.get(column, 0) for column in REPORT_COLUMNS]
        row["issues_url"] = issues_url(site_name, source=key, kind="all")
        tables.append(row)
    before, after = report.get("counts_before") or {}, report.get("counts_after") or {}
    counts = [
        {
            "table": table,
            "before": n,
            "after": after.get(table, n),
            "delta": after.get(table, n) - n,
        }
        for table, n in sorted(before.items(), key=_table_order)
    ]
    verification = run.verification
    if verification is not None:
        verification = {
            "ok": verification.get("ok"),
            "checked": sorted((verification.get("checked") or {}).items(), key=_table_order),
            "problem_counts": list((verification.get("problem_counts") or {}).items()),
            "problems": [
                {
                    **problem,
                    "link": legacy_row_link(
                        problem.get("source", ""), problem.get("legacy_id"), site_name
                    ),
                }
                for problem in verification.get("problems") or []
            ],
        }
    return {
        "columns": [column.replace("_", " ") for column in REPORT_COLUMNS],
        "tables": tables,
        "counts": counts,
        "notes": report.get("notes") or [],
        "census": {
            table: list(formats.items())
            for table, formats in (report.get("hash_census") or {}).items()
        },
        "conflicts": report.get("conflicts", 0),
        "verification": verification,
        "raw": json.dumps(
            {"report": run.report, "verification": run.verification}, indent=2, sort_keys=True
        ),
        "issues_url": f"{reverse(f'{site_name}:legacy_rowissue_changelist')}?"
        + urlencode({"run__id__exact": run.pk, "kind": "all"}),
        "conflicts_url": f"{reverse(f'{site_name}:legacy_conflict_changelist')}?"
        + urlencode({"run__id__exact": run.pk}),
    }


def _table_order(item: tuple[str, Any]) -> tuple[int, int, str]:
    """Legacy tables in legacy-schema.md's order, then authcore's tables by name (PostgreSQL
    returns JSON keys shortest first, which reads as no order at all)."""
    key = item[0]
    if key in LEGACY_MODELS:
        return (0, list(LEGACY_MODELS).index(key), key)
    return (1, 0, key)


def _changelist_url(key: str, site_name: str = "admin") -> str | None:
    name = LEGACY_MODELS.get(key)
    if name is None:
        return None
    opts = apps.get_model("legacy", name)._meta
    try:
        return reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        return None


def _total(run: CopyRun, column: str) -> int:
    tables = (run.report or {}).get("tables") or {}
    return sum(result.get(column, 0) for result in tables.values())


@admin.register(CopyRun)
class CopyRunAdmin(ReadOnlyAdmin):
    """Every run of the copy, newest first, its report rendered; and the legacy overview."""

    list_display = (
        "started_at",
        "trigger",
        "sources_shown",
        "outcome",
        "verification_result",
        "copied",
        "merged",
        "rejected",
        "warnings",
        "conflicts",
        "duration",
        "dry_run",
    )
    list_filter = ("outcome", "trigger", "dry_run")
    ordering = ("-started_at", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "started_at",
                    "finished_at",
                    "duration",
                    "trigger",
                    "sources_shown",
                    "dry_run",
                    "outcome",
                    "verification_result",
                ),
            },
        ),
    )
    readonly_fields = (
        "started_at",
        "finished_at",
        "duration",
        "trigger",
        "sources_shown",
        "dry_run",
        "outcome",
        "verification_result",
    )

    # ---- columns, from the report JSON (no query)

    @admin.display(description="sources")
    def sources_shown(self, run: CopyRun) -> str:
        return ", ".join(run.sources or []) or "—"

    @admin.display(description="verification")
    def verification_result(self, run: CopyRun) -> str:
        if run.verification is None:
            return "—"
        if run.verification.get("ok"):
            return "passed"
        problems = sum((run.verification.get("problem_counts") or {}).values())
        return f"FAILED ({problems} problem{'s' if problems != 1 else ''})"

    @admin.display(description="copied")
    def copied(self, run: CopyRun) -> int:
        return _total(run, "copied")

    @admin.display(description="merged")
    def merged(self, run: CopyRun) -> int:
        return _total(run, "merged")

    @admin.display(description="rejected")
    def rejected(self, run: CopyRun) -> int:
        return _total(run, "rejected")

    @admin.display(description="warnings")
    def warnings(self, run: CopyRun) -> int:
        return _total(run, "warnings")

    @admin.display(description="conflicts")
    def conflicts(self, run: CopyRun) -> int:
        return (run.report or {}).get("conflicts", 0)

    @admin.display(description="duration")
    def duration(self, run: CopyRun) -> str:
        seconds = (run.report or {}).get("duration_seconds")
        if seconds is None and run.finished_at is not None:
            seconds = (run.finished_at - run.started_at).total_seconds()
        return "—" if seconds is None else f"{seconds:.3f} s"

    # ---- pages

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = self.get_object(request, object_id)
        if run is not None:
            extra_context = {
                **(extra_context or {}),
                "report": report_view(run, self.admin_site.name),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[Any]:
        # Before the model's own patterns: "<object_id>/" would take "overview/" too.
        overview = path(
            "overview/",
            self.admin_site.admin_view(self.overview_view),
            name="legacy_overview",
        )
        return [overview, *super().get_urls()]

    def overview_view(self, request: HttpRequest) -> TemplateResponse:
        """Per legacy table that exists: rows, and how many were copied, merged, rejected,
        warned about, or are not accounted for (one aggregate query per table)."""
        site = self.admin_site.name
        tables, absent = [], []
        for key, name in LEGACY_MODELS.items():
            model = apps.get_model("legacy", name)
            model_admin = self.admin_site._registry.get(model)
            if not isinstance(model_admin, ReadOnlyLegacyAdmin):
                continue
            if not model_admin.has_view_permission(request):
                continue
            if legacy_columns(request, model) is None:
                absent.append(model._meta.db_table)
                continue
            changelist = _changelist_url(key, site)
            accounting = model_admin.accounting
            row: dict[str, Any] = {"key": key, "table": model._meta.db_table, "url": changelist}
            if accounting is None:
                row["rows"] = model._default_manager.count()
                row["cells"] = None
            else:
                counts = accounting.counts(model._default_manager.all())
                row["rows"] = counts.pop("rows")
                # One cell per status, in COPY_STATUSES order; None where it cannot happen.
                row["cells"] = [
                    None
                    if status not in counts
                    else {
                        "status": status,
                        "count": counts[status],
                        "url": f"{changelist}?{urlencode({'copy': status})}",
                    }
                    for status in COPY_STATUSES
                ]
                row["issues_url"] = issues_url(site, source=key, kind="all")
            tables.append(row)
        if not tables and not absent:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Legacy overview",
            "opts": self.model._meta,
            "tables": tables,
            "absent": absent,
            "statuses": COPY_STATUSES,
            "latest_run": CopyRun.objects.order_by("-started_at", "-id").first(),
            "runs_url": reverse(f"{site}:legacy_copyrun_changelist"),
            "conflicts_url": reverse(f"{site}:legacy_conflict_changelist"),
            "conflict_count": Conflict.objects.count(),
        }
        return TemplateResponse(request, "admin/legacy/overview.html", context)


class RowIssueKindFilter(admin.SimpleListFilter):
    """Rejected rows unless asked otherwise: they are the rows nobody has now."""

    title = "kind"
    parameter_name = "kind"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*RowIssue.Kind.choices, (self.ALL, "all")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[RowIssue]) -> QuerySet[RowIssue]:
        value = self.value() or REJECTED
        return queryset if value == self.ALL else queryset.filter(kind=value)

    def choices(self, changelist: Any) -> Any:
        # No "All" entry of its own: no parameter means the default, rejected.
        value = self.value() or REJECTED
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


@admin.register(RowIssue)
class RowIssueAdmin(ReadOnlyAdmin):
    """Legacy rows the copy rejected (the default list) or copied with a warning, and why."""

    list_display = (
        "source",
        "legacy_row",
        "kind",
        "reason",
        "detail",
        "first_seen_at",
        "run_link",
    )
    list_filter = (RowIssueKindFilter, "reason", "source")
    search_fields = ("legacy_id", "detail")
    ordering = ("-first_seen_at", "source", "legacy_id")

    @admin.display(description="legacy row", ordering="legacy_id")
    def legacy_row(self, issue: RowIssue) -> str:
        return legacy_row_link(issue.source, issue.legacy_id, self.admin_site.name)

    @admin.display(description="first seen in", ordering="run_id")
    def run_link(self, issue: RowIssue) -> str:
        return _run_link(issue.run_id, self.admin_site.name)


def _run_link(run_id: int | None, site_name: str = "admin") -> str:
    if run_id is None:
        return "—"
    return format_html('<a href="{}">run {}</a>', change_url(CopyRun, run_id, site_name), run_id)


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    """Fields on which one person's legacy rows disagreed, which value won and why."""

    list_display = (
        "user",
        "field",
        "legacy_row",
        "winner_row",
        "kept_value",
        "other_value",
        "rule_shown",
    )
    list_select_related = ("user",)
    list_filter = ("field", "source", "winner_source", "rule")
    search_fields = ("user__email", "legacy_id", "winner_legacy_id")
    ordering = ("-detected_at", "id")

    @admin.display(description="losing row", ordering="legacy_id")
    def legacy_row(self, conflict: Conflict) -> str:
        return legacy_row_link(conflict.source, conflict.legacy_id, self.admin_site.name)

    @admin.display(description="rule", ordering="rule")
    def rule_shown(self, conflict: Conflict) -> str:
        """The rule, cut short so the list stays one line a row (whole on hover and page)."""
        return format_html(
            '<span title="{}">{}</span>', conflict.rule, Truncator(conflict.rule).chars(48)
        )

    @admin.display(description="winning row", ordering="winner_legacy_id")
    def winner_row(self, conflict: Conflict) -> str:
        if conflict.winner_source is None:
            return "—"
        return legacy_row_link(
            conflict.winner_source, conflict.winner_legacy_id, self.admin_site.name
        )


# The admin index links to the legacy overview (a documented AdminSite attribute; left
# alone if a deployment has chosen its own index template).
if admin.site.index_template is None:
    admin.site.index_template = "admin/legacy/site_index.html"
