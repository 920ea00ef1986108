"""Every secret value the database holds, by authcore/lib/secret_fields.py: what the page
and output scans look for, so a column added to that list is scanned without more ado."""

from __future__ import annotations

import re

from django.apps import apps
from django.db import connection

from authcore.lib.secret_fields import SECRET_FIELDS

PIECE = 20
"""A piece of a secret this long shown anywhere is a leak (masks show 8 to 16 characters)."""
SHORTEST = 12
"""Shorter values (an empty or placeholder hash) could match ordinary text by chance."""


def stored_secrets() -> dict[str, str]:
    """``label.field#pk`` -> value, for every non-empty value of every secret column whose
    table (and column) this database has."""
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    found: dict[str, str] = {}
    for label, names in SECRET_FIELDS.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        table = model._meta.db_table
        if table not in tables:
            continue
        with connection.cursor() as cursor:
            columns = {
                c.name for c in connection.introspection.get_table_description(cursor, table)
            }
        present = [name for name in sorted(names) if model._meta.get_field(name).column in columns]
        if not present:
            continue
        for pk, *values in model._base_manager.values_list("pk", *present):
            for name, value in zip(present, values, strict=True):
                if value and len(str(value)) >= SHORTEST:
                    found[f"{label}.{name}#{pk}"] = str(value)
    return found


ALGORITHM = re.compile(r"^[a-z][a-z0-9_]*\$")
"""The algorithm name a stored password hash starts with: shown on purpose (its format)."""


def pieces(value: str) -> list[str]:
    """The whole value if short, else its start (after an algorithm name), middle and end."""
    start = ALGORITHM.sub("", value, count=1)
    if len(start) <= PIECE:
        return [start]
    middle = len(value) // 2 - PIECE // 2
    return [start[:PIECE], value[middle : middle + PIECE], value[-PIECE:]]


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets of which ``text`` holds a piece."""
    return [name for name, value in secrets.items() if any(p in text for p in pieces(value))]
