"""Reports for people: the command's table, and the per-row lines of ``-v 2``."""

from __future__ import annotations

from collections.abc import Iterator

from django.apps.registry import Apps

from legacy.catalog import REPORT_COLUMNS as _COLUMNS
from legacy.engine import Report


def render_report(report: Report) -> str:
    """The report as aligned text."""
    mode = "dry run, nothing written" if report.dry_run else "copy"
    if report.verification is not None:
        mode = "verification"
    lines = [f"Legacy {mode}: sources {', '.join(report.sources)} ({report.duration_seconds} s)"]
    lines += [f"  note: {note}" for note in report.notes]
    if report.tables:
        lines.append("")
        lines.append(f"  {'table':<22}" + "".join(f"{c:>13}" for c in _COLUMNS))
        for key, result in report.tables.items():
            values = "".join(f"{getattr(result, c):>13}" for c in _COLUMNS)
            lines.append(f"  {key:<22}{values}")
        lines.append(f"  conflicts recorded: {report.conflicts}")
    if report.counts_before:
        lines.append("")
        lines.append("  rows per table, before -> after:")
        for table, before in report.counts_before.items():
            after = report.counts_after.get(table, before)
            lines.append(f"    {table:<28}{before:>10} -> {after}")
    for table, census in report.hash_census.items():
        lines.append("")
        lines.append(f"  password formats in {table}:")
        lines += [f"    {name:<28}{count:>10}" for name, count in census.items()]
    v = report.verification
    if v is not None:
        lines.append("")
        checked = ", ".join(f"{table} {n} rows" for table, n in v.checked.items())
        lines.append(f"  verification {'OK' if v.ok else 'FAILED'} ({checked or 'no tables'})")
        for problem, count in v.problem_counts.items():
            lines.append(f"    {problem}: {count}")
        for p in v.problems:
            detail = f" ({p.detail})" if p.detail else ""
            lines.append(f"    {p.source}#{p.legacy_id}: {p.problem}{detail}")
        if v.held_counts:
            held = ", ".join(f"{table} {n}" for table, n in v.held_counts.items())
            lines.append(f"  held for review, accounted for: {held}")
        for p in v.held:
            lines.append(f"    {p.source}#{p.legacy_id}: held ({p.detail})")
    return "\n".join(lines)


def issue_lines(apps: Apps, using: str, report: Report) -> Iterator[str]:
    """Every row this run rejected, warned about or found in conflict (for ``-v 2``)."""
    if report.run_id is None:
        return
    issues = apps.get_model("legacy", "RowIssue")._base_manager.using(using)
    for issue in issues.filter(run_id=report.run_id).order_by("source", "id").iterator():
        yield f"  {issue.kind}: {issue.source}#{issue.legacy_id} {issue.reason} {issue.detail}"
    conflicts = apps.get_model("legacy", "Conflict")._base_manager.using(using)
    for c in conflicts.filter(run_id=report.run_id).order_by("id").iterator():
        values = ""
        if c.kept_value is not None or c.other_value is not None:
            values = f" kept {c.kept_value!r} over {c.other_value!r}"
        yield (
            f"  conflict: user {c.user_id} {c.field}: {c.source}#{c.legacy_id} lost to "
            f"{c.winner_source}#{c.winner_legacy_id}{values} ({c.rule})"
        )
