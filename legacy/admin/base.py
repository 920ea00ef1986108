"""What every page of the legacy admin shares: the view-only admin, the columns the
database really has, and links between legacy rows, runs and issues."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.admin.utils import quote
from django.db import connections, models, router
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from authcore.lib.admin_lists import EstimatedCountPaginator, ReadOnlyMixin
from authcore.lib.admin_types import AnyModelAdmin
from legacy.catalog import LEGACY_MODELS
from legacy.engine.schema import LegacyTable, find_tables
from legacy.engine.sql import Dialect
from legacy.models import CopyRun

TABLE_KEYS = {name: key for key, name in LEGACY_MODELS.items()}
"""Legacy model name -> its table key (the table's name in legacy-schema.md)."""


class ReadOnlyAdmin(ReadOnlyMixin, AnyModelAdmin):
    """Viewable by staff with the view permission; never added to, changed or deleted.

    These tables run to millions of rows: a page counts its rows once, not a second time
    for the whole table (Django's "N results (M total)" under a search or filter), and an
    unfiltered page of a very large table shows an estimate (authcore/lib/admin_lists.py).
    """

    show_full_result_count = False
    paginator = EstimatedCountPaginator


# ---- What the database really has ---------------------------------------------------------


def found_tables(request: HttpRequest, alias: str) -> dict[str, LegacyTable]:
    """The legacy tables of database ``alias`` as the engine finds them (``find_tables``).

    Looked up once per request and kept on the request: cheap enough, and never stale,
    since a deployment may gain or lose a legacy table at any time.
    """
    found: dict[str, dict[str, LegacyTable]] | None = getattr(request, "_legacy_tables", None)
    if found is None:
        # Ignored: a per-request cache, kept on the request where HttpRequest declares none.
        found = request._legacy_tables = {}  # type: ignore[attr-defined]
    if alias not in found:
        connection = connections[alias]
        found[alias] = find_tables(apps, connection, Dialect(connection))
    return found[alias]


def legacy_columns(request: HttpRequest, model: type[models.Model]) -> frozenset[str] | None:
    """The columns of legacy ``model``'s table as the database has them; None if no table."""
    table = found_tables(request, router.db_for_read(model)).get(TABLE_KEYS[model.__name__])
    return None if table is None else table.columns


# ---- Links --------------------------------------------------------------------------------


def change_url(obj_or_model: Any, pk: Any, site_name: str = "admin") -> str | None:
    """The admin change page of ``pk`` of a model (None where the admin has no such page)."""
    opts = obj_or_model._meta
    try:
        return reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)])
    except NoReverseMatch:
        return None


def changelist_url(key: str, site_name: str = "admin") -> str | None:
    """The list of legacy table ``key``; None for no such table or page."""
    name = LEGACY_MODELS.get(key)
    if name is None:
        return None
    opts = apps.get_model("legacy", name)._meta
    try:
        return reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        return None


def legacy_row_url(source: str, legacy_id: str, site_name: str = "admin") -> str | None:
    """The read-only admin page of legacy row ``source#legacy_id``; None for no such table."""
    name = LEGACY_MODELS.get(source)
    if name is None or legacy_id is None:
        return None
    return change_url(apps.get_model("legacy", name), legacy_id, site_name)


def legacy_row_link(source: str | None, legacy_id: str | None, site_name: str = "admin") -> str:
    """``source#legacy_id``, linked to the legacy row's page where there is one."""
    if source is None or legacy_id is None:
        return "—"
    url = legacy_row_url(source, legacy_id, site_name)
    label = f"{source}#{legacy_id}"
    return format_html('<a href="{}">{}</a>', url, label) if url else label


def issues_url(site_name: str = "admin", **filters: str) -> str:
    """The row-issue list, filtered (e.g. ``source="users", kind="rejected"``)."""
    return f"{reverse(f'{site_name}:legacy_rowissue_changelist')}?{urlencode(filters)}"


def run_link(run_id: int | None, site_name: str = "admin") -> str:
    """``run N``, linked to the run's page."""
    if run_id is None:
        return "—"
    return format_html('<a href="{}">run {}</a>', change_url(CopyRun, run_id, site_name), run_id)
