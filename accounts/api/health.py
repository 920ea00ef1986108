"""What /api/health/detailed reports: database, migrations, and the last legacy copy.

Kept out of the view so each probe can be read (and tested) on its own.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from legacy.models import CopyRun

OK, ERROR = "ok", "error"
HEALTHY, UNHEALTHY = "healthy", "unhealthy"


def database_status(alias: str = "default") -> str:
    """``ok`` if a trivial query succeeds on ``alias``, else ``error``."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return ERROR
    return OK


def pending_migrations(alias: str = "default") -> list[str]:
    """``app.migration`` names that ``migrate`` would still apply, in order."""
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def latest_copy_run() -> dict[str, Any] | None:
    """The newest CopyRun (when the legacy copy last ran, and how it ended), or None."""
    run = CopyRun.objects.order_by("-started_at", "-pk").first()
    if run is None:
        return None
    return {
        "id": run.pk,
        "outcome": run.outcome,
        "finished_at": run.finished_at,
        "trigger": run.trigger,
    }


def detailed_report() -> dict[str, Any]:
    """Everything the detailed health check shows; ``status`` is unhealthy if a probe fails."""
    database = database_status()
    if database != OK:
        # Migrations and copy runs live in the database: nothing more can be learnt.
        return {
            "status": UNHEALTHY,
            "database": database,
            "migrations": None,
            "legacy_copy": None,
            "timestamp": timezone.now(),
        }
    pending = pending_migrations()
    return {
        "status": HEALTHY,
        "database": database,
        "migrations": {"applied": not pending, "pending": pending},
        "legacy_copy": latest_copy_run(),
        "timestamp": timezone.now(),
    }
