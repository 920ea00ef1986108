"""The page of one legacy table, built from the columns the database really has.

A deployment's real tables drift from the models (legacy-schema.md, "May vary"): a declared
column may be missing, the password column may have another name, a whole source may be
absent. Every legacy page is therefore built from the columns that really exist, looked up
once per request. Secrets never reach a page: digests are cut to their first characters and
a password hash shows only its format. Every legacy row also shows what the copy made of it
(the consolidated row it became, or the recorded reasons why not).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models, router
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.related import ForeignKey
from django.db.models.lookups import Exact, In, IsNull
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from accounts.models import User
from authcore.lib import hash_formats
from authcore.lib.masking import mask_digest
from authcore.lib.secret_fields import is_secret, secret_fields_of
from legacy.admin.accounting import COPY_STATUSES, PEOPLE, Accounting, CopyStatusFilter
from legacy.admin.base import (
    TABLE_KEYS,
    ReadOnlyAdmin,
    change_url,
    issues_url,
    legacy_columns,
    legacy_row_link,
)
from legacy.admin.engine_sql import ReadingContext, as_expression, column
from legacy.catalog import REJECTED, WARNING
from legacy.engine import people
from legacy.engine.sql import Params
from legacy.models import Conflict, RowIssue

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _CopyAnnotations(TypedDict):
    """What ``Accounting.annotations`` puts on each legacy row of a changelist page."""

    copy_legacy_id: str
    copy_became: Any
    copy_created: bool
    copy_merged: bool
    copy_rejected: bool
    copy_warned: bool

PASSWORD_VALUE = "legacy_password_value"
"""Annotation carrying the stored password hash, whatever its column is called."""


def role_key(request: HttpRequest, model: type[models.Model], field_path: str) -> RawSQL:
    """A legacy role as the group it stands for, by the engine's own rule (people.role_key)."""
    ctx = ReadingContext.of(request, router.db_for_read(model))
    params = Params()
    key = people.role_key(ctx, column(ctx, model, field_path), params)
    return as_expression(key, params, models.CharField())


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
        value = self.used_parameters.get(self.lookup_kwarg)
        if isinstance(value, list):
            value = value[-1] if value else None
        self.lookup_val: str | None = value if isinstance(value, str) else None
        self.title = f"{self.title} (as a group)"
        self.key = role_key(request, model, field_path)
        self.groups = list(
            Group.objects.filter(legacy_role__isnull=False)
            .order_by("name")
            .values_list("name", flat=True)
        )

    def expected_parameters(self) -> list[str | None]:
        return [self.lookup_kwarg]

    def _condition(self, value: str) -> Q:
        key = self.key
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


# ---- The base class ------------------------------------------------------------------------


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

    def get_list_select_related(self, request: HttpRequest) -> tuple[str, ...]:
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

    def _prefetch(self, request: HttpRequest, fk_name: str) -> Prefetch[Any]:
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

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns = legacy_columns(request, self.model) or frozenset()
        shown = [name for name in self.list_display if self._shows(name, columns)]
        if self.accounting is None:
            return shown
        # Early in the row: wide legacy lists scroll, and this is what people look for.
        return [*shown[:2], "copy_status", *shown[2:]]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        columns = legacy_columns(request, self.model) or frozenset()
        shown = [name for name in self.list_filter if self._shows(name, columns)]
        return [CopyStatusFilter, *shown] if self.accounting is not None else shown

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [path for path in self.search_fields if self._searchable(request, path)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
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
    def copy_status(self, obj: WithAnnotations[models.Model, _CopyAnnotations]) -> str:
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
    def copy_outcome(self, obj: WithAnnotations[models.Model, _CopyAnnotations]) -> str:
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
                # A person row that lost the merge: link the row that won it.
                if (
                    accounting.target.kind == PEOPLE
                    and isinstance(became_obj, User)
                    and not obj.copy_created
                ):
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
