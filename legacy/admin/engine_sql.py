"""The engine's own SQL rules, run inside an admin request.

The engine builds its rules as SQL with named placeholders for a run's ``Context``; the
admin reads the same rules through ``ReadingContext`` and turns them into ORM expressions
(``as_expression``), so a page never restates a rule the engine already has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils import timezone

from legacy.admin.base import found_tables
from legacy.engine.context import Context
from legacy.engine.report import Report
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Dialect, Params

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass
class ReadingContext(Context):
    """A ``Context`` for reading the engine's rules, not for a run: the live registry and
    the tables this request found, and none of the settings a run gives its connection."""

    found: dict[str, LegacyTable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dialect = Dialect(self.connection)
        self.tables = self.found

    @classmethod
    def of(cls, request: HttpRequest, alias: str) -> ReadingContext:
        return cls(
            apps=apps,
            connection=connections[alias],
            report=Report(sources=[]),
            now=timezone.now(),
            found=found_tables(request, alias),
        )


def positional(sql: str, params: Params) -> tuple[str, list[Any]]:
    """Engine SQL (``%(name)s`` placeholders) as SQL with ``%s`` and its values in order."""
    values: list[Any] = []

    def take(match: re.Match[str]) -> str:
        values.append(params.values[match.group(1)])
        return "%s"

    return _PLACEHOLDER.sub(take, sql), values


def as_expression(sql: str, params: Params, output_field: models.Field[Any, Any]) -> RawSQL:
    """Engine SQL as an ORM expression (a filter, when ``output_field`` is boolean)."""
    return RawSQL(*positional(sql, params), output_field=output_field)


def column(ctx: Context, model: type[models.Model], field_path: str) -> str:
    """``model``'s column for ``field_path`` as the engine writes one: quoted, qualified by
    the table (the alias Django gives a changelist's own table)."""
    d = ctx.dialect
    return f"{d.quote(model._meta.db_table)}.{d.quote(column_name(model, field_path))}"


def column_name(model: type[models.Model], field_path: str) -> str:
    """The column of ``model``'s field ``field_path`` (``pk`` for the primary key)."""
    opts = model._meta
    found = opts.pk if field_path == "pk" else opts.get_field(field_path)
    if not isinstance(found, models.Field) or not found.column:
        raise FieldError(f"{opts.label}.{field_path} has no column of its own")
    return found.column
