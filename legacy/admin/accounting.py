"""What the copy made of each legacy row: copied, merged, rejected, warned about, or not
accounted for, as conditions on a legacy table's rows (set-based, never a query per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models, router
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast
from django.http import HttpRequest

from accounts.models import User, UserOrigin
from legacy.admin.engine_sql import ReadingContext, as_expression, column, column_name
from legacy.catalog import LEGACY_MODELS, REJECTED, WARNING
from legacy.engine.nats import SUPERSEDED
from legacy.engine.sql import Params
from legacy.engine.trust import held_rows, holds_supported
from legacy.engine.verify import unaccounted
from legacy.models import RowIssue

PEOPLE, ROWS, CARRIED = "people", "rows", "carried"


@dataclass(frozen=True)
class CopyTarget:
    """Where the copy records what became of one legacy table's rows.

    ``people``: each valid row is a UserOrigin; the row that created its user is copied,
    every other row of that person merged. ``rows``: each copied row is a row of ``model``
    with ``legacy_source`` = the table key and ``legacy_id``. ``carried``: the winning row's
    values moved onto a row of ``model`` whose ``field`` names it; the person's other rows
    are recorded as superseded (merged). ``holds``: a row may be held for review instead,
    which accounts for it too.
    """

    kind: str
    model: str
    field: str = "legacy_id"
    holds: bool = False

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
    "user_api_keys": CopyTarget(ROWS, "accounts.ApiKey", holds=True),
    "user": CopyTarget(PEOPLE, "accounts.User"),
    "user_api_key": CopyTarget(ROWS, "accounts.ApiKey", holds=True),
    "user_profile": CopyTarget(ROWS, "accounts.Profile", holds=True),
    "user_session": CopyTarget(ROWS, "accounts.LoginSession", holds=True),
    "fu_users": CopyTarget(PEOPLE, "accounts.User"),
    "nats_account": CopyTarget(ROWS, "natscreds.NatsAccount"),
    "nats_user_credential": CopyTarget(
        CARRIED, "accounts.User", field="nats_legacy_id", holds=True
    ),
    "nats_auth_session": CopyTarget(ROWS, "natscreds.NatsAuthSession", holds=True),
}
"""Legacy table key -> where its copies are. A table not listed has no copy step (yet)."""

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

    "Not accounted for" is the engine's own rule, run as SQL: the rows --verify reports as
    not copied (legacy.engine.verify.unaccounted). The other statuses say how a row was
    accounted for. Legacy ids are the key cast to text by the database, as the engine
    stores them. Everything here is set-based, never a query per row.
    """

    def __init__(self, key: str, target: CopyTarget, model: type[models.Model]) -> None:
        self.key = key
        self.target = target
        self.model = model
        self.legacy_model = apps.get_model("legacy", LEGACY_MODELS[key])

    @classmethod
    def of(cls, key: str) -> Accounting | None:
        """The accounting of legacy table ``key``; None where no copy step reads it."""
        target = COPY_TARGETS.get(key)
        model = target.resolve() if target is not None else None
        return None if target is None or model is None else cls(key, target, model)

    @staticmethod
    def _legacy_id() -> Cast:
        return Cast(OuterRef("pk"), output_field=models.TextField())

    def records(self) -> QuerySet[Any]:
        """What the copy wrote for the outer row: its origins, or its copied rows."""
        if self.target.kind == PEOPLE:
            return UserOrigin.objects.filter(source=self.key, legacy_id=self._legacy_id())
        lookup: dict[str, Any] = {self.target.field: self._legacy_id()}
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

    def condition(self, status: str, request: HttpRequest) -> Q:
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
            ctx, sql, params = self._unaccounted(request)
            legacy_id = ctx.dialect.as_text(column(ctx, self.legacy_model, "pk"))
            # The engine's rows are (legacy_id, detail), the detail empty: one row value each.
            return Q(as_expression(f"({legacy_id}, '') IN ({sql})", params, models.BooleanField()))
        raise ValueError(f"unknown copy status {status!r}")

    def counts(self, queryset: QuerySet[Any], request: HttpRequest) -> dict[str, int]:
        """The rows of the whole table, and the rows of each status: one COUNT query each.

        Separate queries rather than one aggregate with FILTERs: in a WHERE clause the
        database turns each EXISTS into a semi- or anti-join (measured: 0.2 s instead of
        1.6 s for 100,000 rows on PostgreSQL), where a FILTER probes row by row.
        """
        counts = {"rows": queryset.count()}
        for status in self.statuses():
            if status == "unaccounted":
                ctx, sql, params = self._unaccounted(request)
                counts[status] = ctx.rows(f"SELECT COUNT(*) FROM ({sql}) u", params)[0][0]
            else:
                counts[status] = queryset.filter(self.condition(status, request)).count()
        return counts

    def _unaccounted(self, request: HttpRequest) -> tuple[ReadingContext, str, Params]:
        """The engine's SQL of the rows --verify reports as not copied."""
        ctx = ReadingContext.of(request, router.db_for_read(self.legacy_model))
        table = ctx.legacy(self.key)
        assert table is not None, "a page of a table that is not there shows no rows"
        params = ctx.params(source=self.key)
        return ctx, unaccounted(ctx, table, self._accounted_ids(ctx, params), params), params

    def _accounted_ids(self, ctx: ReadingContext, params: Params) -> str:
        """SQL: the ids of this table's rows the copy accounted for, as --verify lists them.

        Each source's verify step writes this inline (verify_people, verify_owned, nats'
        _verify_accounts and _verify_credentials, tenants' verify); until the engine has
        it as a function of its own, this is that SQL, kept to the same few lines.
        """
        if self.target.kind == PEOPLE:
            origin = ctx.table_of("accounts.UserOrigin")
            return f"SELECT o.legacy_id FROM {origin} o WHERE o.source = %(source)s"
        if self.target.kind == CARRIED:
            user, issue = ctx.table_of(self.target.model), ctx.table_of("legacy.RowIssue")
            field = ctx.dialect.quote(column_name(self.model, self.target.field))
            params.values["superseded"] = SUPERSEDED
            ids = (
                f"SELECT u.{field} AS legacy_id FROM {user} u WHERE u.{field} IS NOT NULL"
                f" UNION SELECT i.legacy_id FROM {issue} i"
                f" WHERE i.source = %(source)s AND i.reason = %(superseded)s"
            )
        else:
            target = ctx.table_of(self.target.model)
            ids = f"SELECT t.legacy_id FROM {target} t WHERE t.legacy_source = %(source)s"
        if self.target.holds and holds_supported(ctx):
            ids += f" UNION ALL {held_rows(ctx, self.key, params)}"
        return ids

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
        value = self.value()
        if self.accounting is not None and value in self.accounting.statuses():
            return queryset.filter(self.accounting.condition(value, request))
        return queryset
