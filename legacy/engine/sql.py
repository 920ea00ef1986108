"""SQL building blocks that PostgreSQL and SQLite both run.

The engine is one algorithm in plain SQL; only a handful of expressions are spelled
differently per database, and they all live here, with what else differs (the flags of
``Dialect``). Every identifier is quoted by the connection, every value is a query
parameter: nothing is pasted in unchecked.

The engine's SQL names its tables by one letter, always with the same meaning:

=====  ==================================================================================
alias  what it stands for
=====  ==================================================================================
s      the legacy row being read (``LegacyTable.col("s", ...)``); ``r`` another row of
       the same legacy table
n      a staged row: a row not copied yet, mapped and checked (``Context.stage``)
r      a row of an inner query or of the rows handed to ``record_issues`` and
       ``record_holds``; in roles, a role group's marker
u      a consolidated user (accounts.User); ``e`` a user found while staging
o      a UserOrigin: the legacy person row a user or an owned row came from; ``w`` the
       winning row's origin, ``m`` another origin of the same user
t      a row the copy made in the target model (key, session, profile, tenant, NATS
       account or session); ``x`` another row of it, or a Conflict already on record
c      a copied id in --verify's subqueries; in NATS a legacy credential row; in
       conflicts, one candidate conflict
w      in NATS, a ranked credential of a person (position 1 wins)
f      a compared field (conflicts); in NATS, a fresh credential or a found problem
m      a membership (tenants), or a user's group membership (roles)
g      a Django group; ``a`` a NATS account (legacy or natscreds); ``k`` a staged id list
i, h   a RowIssue, a Hold
v      in NATS, the check results of a credential
=====  ==================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from authcore.lib import emails, hash_formats


@dataclass
class Params:
    """Named query parameters, collected while a statement is built."""

    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any, hint: str = "p") -> str:
        """Register ``value`` and return its placeholder."""
        name = f"{hint}{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"


_POSTGRES_TYPES = {"timestamp": "timestamp with time zone", "boolean": "boolean", "uuid": "uuid"}


class Dialect:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise ValueError(f"authcore copies on PostgreSQL or SQLite, not {self.vendor}.")

    def quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    @property
    def tunes_planner(self) -> bool:
        """Statistics and join choices the engine manages (legacy/engine/planner.py)."""
        return self.vendor == "postgresql"

    @property
    def has_advisory_locks(self) -> bool:
        """One copy at a time needs a lock (legacy/engine/locking.py); SQLite allows one
        writer at a time anyway."""
        return self.vendor == "postgresql"

    @property
    def sets_aside_foreign_keys(self) -> bool:
        """Foreign keys dropped and added back checked (legacy/engine/foreign_keys.py)."""
        return self.vendor == "postgresql"

    @property
    def needs_lookup_indexes(self) -> bool:
        """A correlated look-up into a stage scans it per row unless it is indexed (SQLite);
        PostgreSQL hashes the stage instead."""
        return self.vendor == "sqlite"

    def computed_once(self) -> str:
        """Ends a subquery whose columns are costly expressions (regexes), so that they are
        computed once per row.

        PostgreSQL otherwise merges such a subquery into the query around it and copies
        each expression into every place that reads its column: a CASE of regexes read by
        a join, a window and the output ran three times. ``OFFSET 0`` keeps the subquery
        whole. SQLite evaluates per reference too, but its demo tables are small.
        """
        return " OFFSET 0" if self.vendor == "postgresql" else ""

    def null(self, kind: str = "text") -> str:
        """A typed NULL: PostgreSQL types a bare NULL in a subquery as text."""
        if self.vendor == "postgresql" and kind != "text":
            return f"CAST(NULL AS {_POSTGRES_TYPES[kind]})"
        return "NULL"

    def within_python_range(self, expr: str) -> str:
        """A legacy timestamp moved into the years Python can hold (1 to 9999).

        PostgreSQL keeps 'infinity', '-infinity', BC dates and years past 9999; Django
        cannot read them back, so one such value would break logins, the API and every
        admin list that shows it. Each goes to the nearest instant Python can hold, with
        a day's margin for time zones: an expiry or revocation keeps its meaning (still
        in the far future, still long past), NULL stays NULL. SQLite has no such values.
        """
        if self.vendor != "postgresql":
            return expr
        # Not LEAST/GREATEST: they skip a NULL, and would make "never expires" year 1.
        first = "TIMESTAMPTZ '0001-01-02 00:00:00+00'"
        last = "TIMESTAMPTZ '9999-12-30 00:00:00+00'"
        return (
            f"CASE WHEN {expr} < {first} THEN {first}"
            f" WHEN {expr} > {last} THEN {last} ELSE {expr} END"
        )

    def as_text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def distinct(self, left: str, right: str) -> str:
        """``left`` and ``right`` differ, NULL counting as a value."""
        if self.vendor == "postgresql":
            return f"({left}) IS DISTINCT FROM ({right})"
        return f"({left}) IS NOT ({right})"

    def bool_text(self, expr: str) -> str:
        """A boolean as 'true' / 'false' (SQLite stores 1 / 0)."""
        return f"CASE WHEN {expr} THEN 'true' WHEN NOT {expr} THEN 'false' END"

    def json_object_or_empty(self, expr: str) -> str:
        """``expr`` if it holds a JSON object, else an empty object."""
        if self.vendor == "postgresql":
            return f"CASE WHEN jsonb_typeof({expr}) = 'object' THEN {expr} ELSE '{{}}'::jsonb END"
        return (
            f"CASE WHEN (CASE WHEN json_valid({expr}) THEN json_type({expr}) END) = 'object'"
            f" THEN {expr} ELSE '{{}}' END"
        )

    def json_is_object(self, expr: str) -> str:
        if self.vendor == "postgresql":
            return f"COALESCE(jsonb_typeof({expr}) = 'object', FALSE)"
        return f"COALESCE((CASE WHEN json_valid({expr}) THEN json_type({expr}) END) = 'object', 0)"

    def matches(self, expr: str, pattern_placeholder: str) -> str:
        """``expr`` matches the regular expression (PostgreSQL ``~``, SQLite ``REGEXP``)."""
        # Every backend has ``operators``; the stubs do not declare it.
        regex = self.connection.operators["regex"]  # type: ignore[attr-defined]
        return f"{expr} {regex % pattern_placeholder}"

    def maybe_non_ascii(self, expr: str) -> str:
        """False only for text that is plain ASCII, whose case folds back and forth: a cheap
        test that spares a million addresses four case conversions each.

        More bytes than characters means a multi-byte character, in UTF-8 (and always, in
        SQLite's UTF-16). A PostgreSQL database in a one-byte encoding gets no shortcut.
        """
        if self.vendor == "sqlite":
            return f"LENGTH(CAST({expr} AS BLOB)) <> LENGTH({expr})"
        if self._server_encoding() == "UTF8":
            return f"OCTET_LENGTH({expr}) <> CHAR_LENGTH({expr})"
        return "1 = 1"

    def _server_encoding(self) -> str:
        if not hasattr(self, "_encoding"):
            with self.connection.cursor() as cursor:
                cursor.execute("SHOW server_encoding")
                self._encoding = str(cursor.fetchone()[0]).upper()
        return self._encoding

    def trim_blanks(
        self, expr: str, params: Params, blanks: str = emails.TRIMMED_CHARACTERS
    ) -> str:
        """``expr`` without the characters of ``blanks`` at either end."""
        chars = params.add(blanks, "blanks")
        if self.vendor == "postgresql":
            return f"btrim({expr}, {chars})"
        return f"trim({expr}, {chars})"

    def email_key(self, expr: str, params: Params) -> str:
        """The person key of an address: trimmed, lower case (see authcore.lib.emails)."""
        return f"LOWER({self.trim_blanks(expr, params)})"

    def email_problem(self, expr: str, params: Params) -> str:
        """A CASE giving the reason code of an unusable address, NULL for a good one."""
        trimmed = self.trim_blanks(expr, params)
        pattern = params.add(emails.PATTERN, "email_re")
        return (
            f"CASE WHEN {expr} IS NULL OR {trimmed} = '' THEN {params.add(emails.EMPTY)}"
            f" WHEN LENGTH({trimmed}) > {params.add(emails.MAX_LENGTH)}"
            f" THEN {params.add(emails.TOO_LONG)}"
            f" WHEN NOT ({self.matches(trimmed, pattern)}) THEN {params.add(emails.INVALID)}"
            f" WHEN {self.maybe_non_ascii(trimmed)}"
            f" AND (LOWER(UPPER({trimmed})) <> LOWER({trimmed})"
            f" OR UPPER(LOWER({trimmed})) <> UPPER({trimmed})) THEN {params.add(emails.LOOKALIKE)}"
            " END"
        )

    def hash_format(self, expr: str, params: Params) -> str:
        """A CASE naming the password-hash format (see authcore.lib.hash_formats)."""
        empty = params.add(hash_formats.EMPTY_PATTERN, "empty_re")
        whens = [
            f"WHEN {expr} IS NULL OR {self.matches(expr, empty)}"
            f" THEN {params.add(hash_formats.EMPTY)}"
        ]
        for fmt in hash_formats.HASH_FORMATS:
            whens.append(
                f"WHEN {self._matches_format(expr, fmt, params)} THEN {params.add(fmt.name)}"
            )
        return f"CASE {' '.join(whens)} ELSE {params.add(hash_formats.UNRECOGNISED)} END"

    def _matches_format(self, expr: str, fmt: hash_formats.HashFormat, params: Params) -> str:
        """``expr`` is in format ``fmt``: each branch's regex runs only where its start fits."""
        tests = []
        for branch in fmt.sql_branches():
            test = [self.matches(expr, params.add(branch.pattern, "hash_re"))]
            if branch.length is not None:
                test.insert(0, f"LENGTH({expr}) = {int(branch.length)}")
            if branch.start:
                test.insert(
                    0, f"SUBSTR({expr}, 1, {len(branch.start)}) = {params.add(branch.start)}"
                )
            tests.append(f"({' AND '.join(test)})")
        return f"({' OR '.join(tests)})"

    def django_password_of_format(self, format_expr: str, expr: str, params: Params) -> str:
        """Like ``django_password``, for a hash whose format ``hash_format`` already named
        (the regexes are not run twice)."""
        whens = []
        for fmt in hash_formats.HASH_FORMATS:
            converted = f"{params.add(fmt.django_prefix)} || {expr}" if fmt.django_prefix else expr
            whens.append(f"WHEN {params.add(fmt.name)} THEN {converted}")
        unusable = params.add(hash_formats.UNUSABLE_PASSWORD)
        return f"CASE {format_expr} {' '.join(whens)} ELSE {unusable} END"

    def django_password(self, expr: str, params: Params) -> str:
        """A CASE turning a legacy hash into a Django-encoded one, or an unusable password."""
        unusable = params.add(hash_formats.UNUSABLE_PASSWORD)
        whens = [f"WHEN {expr} IS NULL THEN {unusable}"]
        for fmt in hash_formats.HASH_FORMATS:
            converted = f"{params.add(fmt.django_prefix)} || {expr}" if fmt.django_prefix else expr
            whens.append(f"WHEN {self._matches_format(expr, fmt, params)} THEN {converted}")
        return f"CASE {' '.join(whens)} ELSE {unusable} END"
