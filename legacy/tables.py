"""Where each legacy table lives: its name in this deployment, checked as an identifier."""

from __future__ import annotations

import re

from django.conf import settings

# Plain identifiers only: they are quoted in SQL anyway, but a name that needs quoting
# tricks is far more likely a typo than a real table.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class InvalidTableName(ValueError):
    """A configured legacy table name is not a plain SQL identifier."""


class MissingLegacyTable(LookupError):
    """A legacy table named explicitly in settings does not exist in the database."""


def is_identifier(name: str) -> bool:
    return bool(IDENTIFIER.fullmatch(name))


def configured_name(key: str) -> str:
    """The name this deployment gives legacy table ``key`` (its key in legacy/catalog.py).

    Not validated here: models are declared at import time, where an exception would be a
    traceback; system check legacy.E001 and the copy engine validate instead.
    """
    return str(getattr(settings, "LEGACY_TABLES", {}).get(key, key))


def check_identifier(key: str, name: str) -> str:
    """Return ``name`` if it is a plain identifier, else raise InvalidTableName."""
    if not is_identifier(name):
        raise InvalidTableName(
            f"legacy table {key!r} is configured as {name!r} (LEGACY_TABLE_{key.upper()}), "
            "which is not a valid SQL identifier: letters, digits and underscores, "
            "not starting with a digit, at most 63 characters."
        )
    return name
