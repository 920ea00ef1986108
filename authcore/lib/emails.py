"""The email rules: when two addresses are one person, and when an address is unusable.

The copy engine evaluates the same rules inside the database (see legacy/engine/sql.py),
built from the constants below, so Python and SQL cannot drift apart.
"""

from __future__ import annotations

import re

# Trimmed from both ends before anything else: the spaces, tabs and line breaks that
# hand-edited rows and CSV imports leave behind.
TRIMMED_CHARACTERS = " \t\r\n"
# RFC 5321 caps a deliverable address at 254 characters.
MAX_LENGTH = 254
# Characters no address may hold: whitespace, control characters, and the invisible
# format characters (zero-width spaces and joiners, bidi controls, BOM) that make two
# addresses look alike. No Unicode normalisation is applied: folding look-alikes into one
# person could hand one person's account to another.
# The spaces that only one of Python's and PostgreSQL's ``\\s`` knows are listed too.
_FORBIDDEN = (
    "@\\s\\x01-\\x1f\\x7f\\u0085\\u00a0\\u00ad\\u2007"
    "\\u200b-\\u200f\\u2028-\\u202f\\u2060-\\u2064\\ufeff"
)
# One "@", something on both sides, a dot in the domain. Written in the regex subset
# PostgreSQL and Python agree on.
PATTERN = f"^[^{_FORBIDDEN}]+@[^{_FORBIDDEN}.]+(\\.[^{_FORBIDDEN}.]+)+$"

EMPTY = "email_empty"
TOO_LONG = "email_too_long"
INVALID = "email_invalid"
# Letters whose case does not map back (the Kelvin sign lower-cases to "k", dotless "ı"
# upper-cases to "I"): such an address would fold into someone else's.
LOOKALIKE = "email_lookalike"

_pattern = re.compile(PATTERN)


def trim(raw: str | None) -> str:
    """The address with surrounding blanks removed ('' for NULL)."""
    return (raw or "").strip(TRIMMED_CHARACTERS)


def _lower(text: str) -> str:
    """PostgreSQL's LOWER(): one character for one (U+0130 becomes a plain "i")."""
    return "".join(
        "i" if c == "\u0130" else (c.lower() if len(c.lower()) == 1 else c) for c in text
    )


def _upper(text: str) -> str:
    """PostgreSQL's UPPER(): one character for one ("ß" stays "ß", not "SS"; a Greek
    letter with iota subscript takes its one-character titlecase form)."""
    return "".join(_upper_char(c) for c in text)


def _upper_char(c: str) -> str:
    for mapped in (c.upper(), c.title()):
        if len(mapped) == 1:
            return mapped
    return c


def email_key(raw: str | None) -> str:
    """What makes two addresses one person: trimmed and compared case-insensitively.

    The database's LOWER() is what the copy uses; this mirrors PostgreSQL's.
    """
    return _lower(trim(raw))


def email_problem(raw: str | None) -> str | None:
    """Why an address cannot identify a person (a reason code), or None if it can."""
    value = trim(raw)
    if not value:
        return EMPTY
    if len(value) > MAX_LENGTH:
        return TOO_LONG
    if not _pattern.search(value):
        return INVALID
    if _lower(_upper(value)) != _lower(value) or _upper(_lower(value)) != _upper(value):
        return LOOKALIKE
    return None
