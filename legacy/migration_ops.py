"""RunPython operations that call the copy engine: each copy migration is two lines."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from legacy.engine import SOURCES, Report, copy_legacy, reverse_legacy
from legacy.engine.trust import held_note, registry_knows_holds


def copy_source(name: str) -> migrations.RunPython:
    """A reversible RunPython that copies legacy source ``name`` with historical models.

    A copy migration whose models predate holds (legacy/engine/trust.py) copies nothing:
    without them a merged row that proves nothing would grant access. The copy then
    runs in ``copy_every_source``, once the models have them; the reverse stays here.
    """

    def forward(apps: Any, schema_editor: Any) -> None:
        if registry_knows_holds(apps):
            _copy(apps, schema_editor, [name])

    def backward(apps: Any, schema_editor: Any) -> None:
        reverse_legacy(apps, using=schema_editor.connection.alias, sources=[name])

    return migrations.RunPython(forward, backward, elidable=False)


def copy_every_source() -> migrations.RunPython:
    """Copy every source with holds in place. Its reverse is the earlier copy migrations'
    (each removes what any copy of its source made), so that migrating back to before
    one source's copy removes that source only."""

    def forward(apps: Any, schema_editor: Any) -> None:
        _copy(apps, schema_editor, list(SOURCES))

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)


def _copy(apps: Any, schema_editor: Any, sources: list[str]) -> Report:
    report = copy_legacy(
        apps, using=schema_editor.connection.alias, sources=sources, trigger="migrate"
    )
    copied = sum(t.copied + t.merged for t in report.tables.values())
    rejected = sum(t.rejected for t in report.tables.values())
    if copied or rejected:
        print(
            f"\n  legacy {', '.join(sources)}: {copied} rows copied or merged, {rejected}"
            " rejected (details: manage.py migrate_legacy_users --verify)",
            end="",
        )
    if report.held_merged_rows:
        print(f"\n  {held_note(report.held_merged_rows)}", end="")
    return report
