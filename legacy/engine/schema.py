"""What is really there: which legacy tables exist, and which of their columns.

Real databases drift from the legacy schema (tests/sql/legacy_schema.postgresql.sql):
optional columns go missing, the password column changes name. The copy reads only what
this finds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps.registry import Apps
from django.db.backends.base.base import BaseDatabaseWrapper

from legacy.catalog import LEGACY_MODELS
from legacy.engine.sql import Dialect
from legacy.tables import MissingLegacyTable, check_identifier


@dataclass(frozen=True)
class LegacyTable:
    """A legacy table as found in the database."""

    key: str
    name: str
    columns: frozenset[str]
    dialect: Dialect

    @property
    def sql(self) -> str:
        """The quoted table name."""
        return self.dialect.quote(self.name)

    def has(self, column: str) -> bool:
        return column in self.columns

    def first_present(self, *candidates: str) -> str | None:
        """The first of ``candidates`` that exists (for renamed columns)."""
        return next((c for c in candidates if c in self.columns), None)

    def col(self, alias: str, column: str | None, kind: str = "text") -> str:
        """``alias."column"`` if the column exists, else a NULL of ``kind`` (it drifted away).

        A timestamp is read within the years Python can hold (``within_python_range``).
        """
        if column is None or column not in self.columns:
            return self.dialect.null(kind)
        value = f"{alias}.{self.dialect.quote(column)}"
        return self.dialect.within_python_range(value) if kind == "timestamp" else value


def configured_tables(apps: Apps, keys: Iterable[str]) -> dict[str, str]:
    """Legacy table key -> configured table name, validated as identifiers."""
    return {
        key: check_identifier(key, apps.get_model("legacy", LEGACY_MODELS[key])._meta.db_table)
        for key in keys
    }


def find_tables(
    apps: Apps, connection: BaseDatabaseWrapper, dialect: Dialect
) -> dict[str, LegacyTable]:
    """The legacy tables that exist, with their columns; missing tables are left out."""
    names = configured_tables(apps, LEGACY_MODELS)
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor, include_views=True))
        found = {}
        missing = [
            f"{key} ({name!r})"
            for key, name in names.items()
            if name != key and name not in existing
        ]
        if missing:
            # A name set on purpose must exist; a default name may (a source not deployed).
            raise MissingLegacyTable(
                f"legacy table configured but not found: {', '.join(missing)};"
                " check LEGACY_TABLE_<KEY> and DATABASE_URL"
            )
        for key, name in names.items():
            if name not in existing:
                continue
            description = connection.introspection.get_table_description(cursor, name)
            found[key] = LegacyTable(
                key=key,
                name=name,
                columns=frozenset(column.name for column in description),
                dialect=dialect,
            )
    return found
