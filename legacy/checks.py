"""System checks: a misconfigured legacy table name or verified source is caught before
anything runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from legacy.tables import is_identifier


@checks.register()
def check_legacy_table_names(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for key, name in getattr(settings, "LEGACY_TABLES", {}).items():
        if not is_identifier(name):
            errors.append(
                checks.Error(
                    f"Legacy table {key!r} is configured as {name!r}, not a valid SQL identifier.",
                    hint=f"Set LEGACY_TABLE_{key.upper()} to letters, digits and underscores "
                    "(not starting with a digit, at most 63 characters).",
                    id="legacy.E001",
                )
            )
    return errors


@checks.register()
def check_verified_sources(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every name in LEGACY_VERIFIED_SOURCES is a source of people rows: a misspelt one
    would leave that source's merged rows held where the operator meant to trust them."""
    from legacy.catalog import PEOPLE_SOURCES
    from legacy.engine.trust import unknown_verified_sources

    unknown = unknown_verified_sources(getattr(settings, "LEGACY_VERIFIED_SOURCES", []))
    if not unknown:
        return []
    known = ", ".join(sorted(set(PEOPLE_SOURCES.values())))
    return [
        checks.Error(
            f"LEGACY_VERIFIED_SOURCES names unknown source(s) {', '.join(unknown)};"
            f" known: {known}.",
            id="legacy.E003",
        )
    ]


@checks.register(checks.Tags.database)
def check_configured_tables_exist(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """A table renamed in settings must exist (run by migrate, before anything is copied)."""
    from django.db import connections

    errors: list[checks.CheckMessage] = []
    for alias in databases or []:
        connection = connections[alias]
        with connection.cursor() as cursor:
            existing = set(connection.introspection.table_names(cursor, include_views=True))
        for key, name in getattr(settings, "LEGACY_TABLES", {}).items():
            if name != key and is_identifier(name) and name not in existing:
                errors.append(
                    checks.Error(
                        f"Legacy table {key!r} is configured as {name!r}, which does not exist"
                        f" in database {alias!r}.",
                        hint=f"Fix LEGACY_TABLE_{key.upper()} or DATABASE_URL.",
                        id="legacy.E002",
                    )
                )
    return errors
