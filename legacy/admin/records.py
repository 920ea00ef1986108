"""What the copy wrote about itself: its runs (each report rendered), the rows it rejected
or warned about, and the conflicts it settled."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator

from legacy.admin.base import (
    ReadOnlyAdmin,
    changelist_url,
    issues_url,
    legacy_row_link,
    run_link,
)
from legacy.admin.overview import overview_page
from legacy.catalog import LEGACY_MODELS, REJECTED
from legacy.engine.report import TableResult
from legacy.models import Conflict, CopyRun, RowIssue

REPORT_COLUMNS = tuple(field.name for field in fields(TableResult))
"""The per-table numbers of a run's report: every one the engine counts, in its order."""


def report_view(run: CopyRun, site_name: str = "admin") -> dict[str, Any]:
    """A run's report and verification JSON as rows and links for the run's page.

    Reads only the JSON (older runs may lack keys), so a report is shown as it was written.
    """
    report = run.report or {}
    tables = []
    for key, result in sorted((report.get("tables") or {}).items(), key=table_order):
        row: dict[str, Any] = {"key": key, "url": changelist_url(key, site_name)}
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
        for table, n in sorted(before.items(), key=table_order)
    ]
    verification = run.verification
    if verification is not None:
        verification = {
            "ok": verification.get("ok"),
            "checked": sorted((verification.get("checked") or {}).items(), key=table_order),
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
        + urlencode({"run__id__exact": str(run.pk), "kind": "all"}),
        "conflicts_url": f"{reverse(f'{site_name}:legacy_conflict_changelist')}?"
        + urlencode({"run__id__exact": run.pk}),
    }


def table_order(item: tuple[str, Any]) -> tuple[int, int, str]:
    """Legacy tables in legacy-schema.md's order, then authcore's tables by name (PostgreSQL
    returns JSON keys shortest first, which reads as no order at all)."""
    key = item[0]
    if key in LEGACY_MODELS:
        return (0, list(LEGACY_MODELS).index(key), key)
    return (1, 0, key)


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
        conflicts: int = (run.report or {}).get("conflicts", 0)
        return conflicts

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
        """Per legacy table: what the copy made of its rows (overview.py)."""
        return overview_page(self, request)


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
        return run_link(issue.run_id, self.admin_site.name)


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
