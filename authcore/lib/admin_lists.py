"""What admin lists share: pages that only show, and lists of a million rows kept cheap.

- ``ReadOnlyMixin``: the one definition of an admin (or inline) that only shows rows.

At a million users a changelist page took over 300 ms of server time: about 120 ms
counting the table for "1,000,000 users" and the page links, most of the rest rendering.

- ``EstimatedCountPaginator``: an unfiltered list of a PostgreSQL table larger than
  ``ADMIN_COUNT_ESTIMATE_ABOVE`` rows shows the planner's estimate ("about N"), as the
  query planner itself would size the table, instead of counting every row. A search or a
  filter is counted exactly, and so is every smaller table, and every table on SQLite.
- ``DirectActionCheckbox``: Django renders each row's action checkbox through a form
  widget and its template, a fifth of a page's time (cProfile); the same HTML is written
  directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.admin import helpers
from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from authcore.lib.admin_types import AnyPaginator

COUNT_ESTIMATE_ABOVE = 500_000
"""Default of the ADMIN_COUNT_ESTIMATE_ABOVE setting."""

# The planner's own size estimate (estimate_rel_size): rows per page at the last ANALYZE or
# VACUUM times the pages the table has now, so growth and shrinkage since then count too.
# NULL where the table has never been analysed, is a view or is partitioned (no pages).
_ESTIMATE_SQL = (
    "SELECT CASE WHEN c.reltuples < 0 OR c.relpages = 0 THEN NULL"
    " ELSE c.reltuples / c.relpages"
    " * (pg_relation_size(c.oid) / current_setting('block_size')::float8) END"
    " FROM pg_class c WHERE c.oid = to_regclass(%s)"
)


def estimated_rows(queryset: QuerySet[Any]) -> int | None:
    """The planner's estimate of the rows of an unfiltered PostgreSQL queryset, else None."""
    query = queryset.query
    connection = connections[queryset.db]
    if (
        connection.vendor != "postgresql"
        or query.where
        or query.distinct
        or query.group_by is not None
        or query.combinator
        or query.is_sliced
    ):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_ESTIMATE_SQL, [connection.ops.quote_name(queryset.model._meta.db_table)])
        row = cursor.fetchone()
    return None if row is None or row[0] is None else round(row[0])


class EstimatedCountPaginator(AnyPaginator):
    """Counts exactly, except an unfiltered list of a very large PostgreSQL table.

    ``estimated`` tells the pagination template to say "about". The estimate moves with
    the table's size; a page past the real last one is shown empty.
    """

    estimated = False

    @cached_property
    def count(self) -> int:
        threshold = getattr(settings, "ADMIN_COUNT_ESTIMATE_ABOVE", COUNT_ESTIMATE_ABOVE)
        if isinstance(self.object_list, QuerySet):
            estimate = estimated_rows(self.object_list)
            if estimate is not None and estimate > threshold:
                self.estimated = True
                return estimate
        return super().count


class DirectActionCheckbox:
    """Mixin for a ModelAdmin: the action checkbox of each row without a template render.

    The output is exactly that of Django's ``ModelAdmin.action_checkbox`` (the admin's
    JavaScript selects rows by its name and class).
    """

    def action_checkbox(self, obj: Model) -> SafeString:
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select"'
            ' aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


class ReadOnlyMixin:
    """Mixin for a ModelAdmin or an inline whose rows are shown, never added, changed or
    deleted here (written by the copy, a login or the API).

    ``obj`` is optional so the same methods serve an inline, which is asked with its parent.
    """

    actions: Sequence[Any] | None = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
