"""What the copy made of each legacy row: copied, merged, rejected, warned about, or not
accounted for, as conditions on a legacy table's rows (set-based, never a query per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast
from django.http import HttpRequest

from accounts.models import User, UserOrigin
from legacy.engine.issues import REJECTED, WARNING
from legacy.engine.nats import SUPERSEDED
from legacy.models import RowIssue

PEOPLE, ROWS, CARRIED = "people", "rows", "carried"


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
