"""The review queue: one admin page of everything a person must decide after the copy.

Held items (a merged row that proved nothing), conflicts and rejected rows, filtered by
kind, table, reason and decision and searched by address. Deciding needs the
``legacy.decide_reviewitem`` permission, not just view access; each decision is recorded
on the item (who, when) and in Django's admin log, and no later run undoes it. The rules
themselves live in legacy/review.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import Truncator

from accounts.models import User
from legacy import review
from legacy.admin.base import ReadOnlyAdmin, legacy_row_link
from legacy.engine import SOURCES
from legacy.models import Conflict, Hold, ReviewItem, RowIssue

# The base tables behind each kind of line of the queue.
TABLES: dict[str, type[Hold] | type[Conflict] | type[RowIssue]] = {
    ReviewItem.Kind.HELD: Hold,
    ReviewItem.Kind.CONFLICT: Conflict,
    ReviewItem.Kind.REJECTED: RowIssue,
}


class DecisionFilter(admin.SimpleListFilter):
    """Undecided lines first: what still needs a person."""

    title = "decision"
    parameter_name = "decision"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("undecided", "undecided"),
            ("released", "released"),
            ("dismissed", "dismissed"),
            (review.LEGACY_TAKEN, "legacy value taken"),
            (review.KEPT, "authcore's value kept"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(decision="" if value == "undecided" else value)


class ServiceFilter(admin.SimpleListFilter):
    """The old service a line's row came from (its table is the "source" filter)."""

    title = "old service"
    parameter_name = "service"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in SOURCES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        source = SOURCES.get(self.value() or "")
        return queryset if source is None else queryset.filter(source__in=source.tables)


def _staff(request: HttpRequest) -> User:
    """Who is deciding: the signed-in user of an admin request (the admin lets no one else in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


@admin.register(ReviewItem)
class ReviewQueueAdmin(ReadOnlyAdmin):
    """Held items, conflicts and rejected rows on one page, with the decisions on them."""

    list_display = (
        "kind",
        "legacy_row",
        "reason",
        "person",
        "detail_shown",
        "found_at",
        "decision_shown",
    )
    list_select_related = ("user", "decided_by")
    list_filter = ("kind", DecisionFilter, ServiceFilter, "source", "reason")
    search_fields = ("detail",)  # and the person's address: get_search_results
    ordering = ("-found_at", "id")
    actions = ("release", "dismiss", "take_legacy_value", "keep_authcore_value")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ReviewItem], search_term: str
    ) -> tuple[QuerySet[ReviewItem], bool]:
        """By address, case-insensitive: the lines of the people whose address holds the
        term (their ids first, so the queue is not joined with every user), and rejected
        rows whose own address (their detail) holds it."""
        term = search_term.strip()
        if not term:
            return queryset, False
        people = (
            User._default_manager.alias(address=Lower("email"))
            .filter(address__contains=term.lower())
            .values("id")
        )
        rejected = Q(kind=ReviewItem.Kind.REJECTED, detail__icontains=term)
        return queryset.filter(Q(user_id__in=people) | rejected), False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("legacy.decide_reviewitem")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # "Person": the lines of one user, linked from the user's page.
        return lookup in ("user__id__exact", "user") or super().lookup_allowed(
            lookup, value, request
        )

    @admin.display(description="row", ordering="legacy_id")
    def legacy_row(self, item: ReviewItem) -> str:
        return legacy_row_link(item.source, item.legacy_id, self.admin_site.name)

    @admin.display(description="person", ordering="user__email")
    def person(self, item: ReviewItem) -> str:
        if item.user is None:
            return "—"
        return format_html('<a href="?user__id__exact={}">{}</a>', item.user.pk, item.user.email)

    @admin.display(description="detail")
    def detail_shown(self, item: ReviewItem) -> str:
        return format_html(
            '<span title="{}">{}</span>', item.detail, Truncator(item.detail).chars(80)
        )

    @admin.display(description="decision", ordering="decision")
    def decision_shown(self, item: ReviewItem) -> str:
        if not item.decision:
            return "undecided"
        who = item.decided_by.email if item.decided_by else "a run (source declared verified)"
        return f"{item.decision} by {who}, {item.decided_at:%Y-%m-%d %H:%M}"

    def _of_kind(self, queryset: QuerySet[ReviewItem], kind: str) -> QuerySet[Any]:
        ids = queryset.filter(kind=kind).values_list("item_id", flat=True)
        return TABLES[kind].objects.filter(pk__in=list(ids))

    def _log(self, request: HttpRequest, queryset: QuerySet[ReviewItem], what: str) -> None:
        LogEntry.objects.log_actions(
            user_id=_staff(request).pk,
            queryset=list(queryset),
            action_flag=CHANGE,
            change_message=what,
            single_object=False,
        )

    def _tell(self, request: HttpRequest, outcome: review.Outcome, what: str) -> None:
        self.message_user(request, f"{outcome.decided} item(s) {what}.", messages.SUCCESS)
        for note in outcome.notes:
            self.message_user(request, note, messages.WARNING)

    @admin.action(description="Release: let the held items through", permissions=["decide"])
    def release(self, request: HttpRequest, queryset: QuerySet[ReviewItem]) -> None:
        chosen = queryset.filter(kind=ReviewItem.Kind.HELD)
        self._log(request, chosen, "released")
        held = self._of_kind(chosen, ReviewItem.Kind.HELD)
        self._tell(request, review.release(held, _staff(request)), "released")

    @admin.action(description="Dismiss: keep as they are, decided", permissions=["decide"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[ReviewItem]) -> None:
        chosen = queryset.filter(decision="")
        self._log(request, chosen, "dismissed")
        outcome = review.dismiss([self._of_kind(chosen, kind) for kind in TABLES], _staff(request))
        self._tell(request, outcome, "dismissed")

    @admin.action(
        description="Take the legacy value (a conflict's role or name)", permissions=["decide"]
    )
    def take_legacy_value(self, request: HttpRequest, queryset: QuerySet[ReviewItem]) -> None:
        chosen = queryset.filter(kind=ReviewItem.Kind.CONFLICT, decision="")
        conflicts = self._of_kind(chosen, ReviewItem.Kind.CONFLICT)
        outcome = review.take_legacy_value(conflicts, _staff(request))
        self._log(request, chosen.filter(reason__in=review.TAKEABLE_FIELDS), "legacy value taken")
        self._tell(request, outcome, "given the legacy value")

    @admin.action(description="Keep authcore's value (a conflict)", permissions=["decide"])
    def keep_authcore_value(self, request: HttpRequest, queryset: QuerySet[ReviewItem]) -> None:
        chosen = queryset.filter(kind=ReviewItem.Kind.CONFLICT, decision="")
        self._log(request, chosen, "authcore's value kept")
        conflicts = self._of_kind(chosen, ReviewItem.Kind.CONFLICT)
        outcome = review.keep_authcore_value(conflicts, _staff(request))
        self._tell(request, outcome, "kept as they are")
