"""RunPython operations that call the copy engine: each copy migration is two lines."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from legacy.engine import copy_legacy, reverse_legacy


def copy_source(name: str) -> migrations.RunPython:
    """A reversible RunPython that copies legacy source ``name`` with historical models."""

    def forward(apps: Any, schema_editor: Any) -> None:
        report = copy_legacy(
            apps, using=schema_editor.connection.alias, sources=[name], trigger="migrate"
        )
        copied = sum(t.copied + t.merged for t in report.tables.values())
        rejected = sum(t.rejected for t in report.tables.values())
        if copied or rejected:
            print(
                f"\n  legacy {name}: {copied} rows copied or merged, {rejected} rejected"
                " (details: manage.py migrate_legacy_users --verify)",
                end="",
            )

    def backward(apps: Any, schema_editor: Any) -> None:
        reverse_legacy(apps, using=schema_editor.connection.alias, sources=[name])

    return migrations.RunPython(forward, backward, elidable=False)
