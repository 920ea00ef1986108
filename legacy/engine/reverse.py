"""The reverse of a copy: remove exactly what it created, in bounded batches.

Legacy tables are never touched, so after a reverse the old services see what they
always saw.
"""

from __future__ import annotations

from legacy.engine.context import Context

BATCH = 5000


def delete_copied(ctx: Context, label: str, source: str) -> int:
    """Delete the rows of model ``label`` that the copy created from legacy table ``source``.

    The ORM delete follows cascades (origins, keys, group memberships, conflicts); batches
    keep memory flat on big tables.
    """
    model = ctx.model(label)
    manager = model._base_manager.db_manager(ctx.connection.alias)
    deleted = 0
    while True:
        batch = list(manager.filter(legacy_source=source).values_list("pk", flat=True)[:BATCH])
        if not batch:
            return deleted
        manager.filter(pk__in=batch).delete()
        deleted += len(batch)


def forget(ctx: Context, label: str, **lookup: object) -> int:
    """Delete bookkeeping rows (origins, issues, conflicts) matching ``lookup``."""
    model = ctx.model(label)
    deleted, _ = model._base_manager.db_manager(ctx.connection.alias).filter(**lookup).delete()
    return deleted
