"""The legacy overview: per legacy table that exists, its rows and what the copy made of
them, with the same rule ``--verify`` uses for rows that are not accounted for."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from authcore.lib.admin_types import AnyModelAdmin
from legacy.admin.accounting import COPY_STATUSES
from legacy.admin.base import changelist_url, issues_url, legacy_columns
from legacy.admin.legacy_table import ReadOnlyLegacyAdmin
from legacy.catalog import LEGACY_MODELS
from legacy.models import Conflict, CopyRun


def overview_page(runs_admin: AnyModelAdmin, request: HttpRequest) -> TemplateResponse:
    """Per legacy table that exists: rows, and how many were copied, merged, rejected,
    warned about, or are not accounted for (a few queries per table, whatever its rows).

    ``runs_admin`` is the admin of copy runs, whose URLs include this page.
    """
    site = runs_admin.admin_site.name
    tables, absent = [], []
    for key, name in LEGACY_MODELS.items():
        model = apps.get_model("legacy", name)
        table_admin = runs_admin.admin_site._registry.get(model)
        if not isinstance(table_admin, ReadOnlyLegacyAdmin):
            continue
        if not table_admin.has_view_permission(request):
            continue
        if legacy_columns(request, model) is None:
            absent.append(model._meta.db_table)
            continue
        changelist = changelist_url(key, site)
        accounting = table_admin.accounting
        row: dict[str, Any] = {"key": key, "table": model._meta.db_table, "url": changelist}
        if accounting is None:
            row["rows"] = model._default_manager.count()
            row["cells"] = None
        else:
            counts = accounting.counts(model._default_manager.all(), request)
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
        **runs_admin.admin_site.each_context(request),
        "title": "Legacy overview",
        "opts": runs_admin.model._meta,
        "tables": tables,
        "absent": absent,
        "statuses": COPY_STATUSES,
        "latest_run": CopyRun.objects.order_by("-started_at", "-id").first(),
        "runs_url": reverse(f"{site}:legacy_copyrun_changelist"),
        "conflicts_url": reverse(f"{site}:legacy_conflict_changelist"),
        "conflict_count": Conflict.objects.count(),
    }
    return TemplateResponse(request, "admin/legacy/overview.html", context)
