"""A legacy table's definition as data, so that a restore never runs SQL text from a file.

``natscreds.table_catalog.describe`` reads a table from the database's catalog into a
plain description (columns, keys, indexes, foreign keys, sequences, grants); ``validate``
accepts such a description back from a backup only if every identifier is a plain name
among the table's columns or the configured legacy tables, every type is on an
allow-list, and every default is one of a few forms (``now()``, the column's own sequence,
true/false, a number, a short quoted literal). The statements that re-create the table
are written here from the validated description alone: SQL text recorded in a backup is
never executed.

The same validation runs before a drop, so a table the restore could not re-create
exactly (a CHECK constraint, an expression index, a default outside the allow-list) is
never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


class DefinitionError(Exception):
    """A description that is malformed, or a table that cannot be described safely."""


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PG_TYPE = re.compile(
    r"(smallint|integer|bigint|real|double precision|boolean|text|bytea|date|inet|cidr"
    r"|macaddr|uuid|json|jsonb|interval|numeric(\(\d{1,4}(,\d{1,4})?\))?"
    r"|character varying(\(\d{1,8}\))?|character(\(\d{1,8}\))?"
    r"|(timestamp|time)(\(\d\))? with(out)? time zone)(\[\])?"
)
_SQLITE_TYPE = re.compile(
    r"(integer|int|bigint|smallint|real|double|double precision|float|bool|boolean|text"
    r"|blob|date|datetime|time|timestamp|uuid|json|inet"
    r"|(numeric|decimal)(\(\d{1,4}(,\d{1,4})?\))?"
    r"|(varchar|char|character varying|character)(\(\d{1,8}\))?)?",
    re.IGNORECASE,
)
# A literal default: digits, letters and a few harmless signs; never a quote, backslash,
# semicolon or parenthesis, so it cannot leave its quotes or call anything.
_LITERAL = r"[A-Za-z0-9 _.,:@/+{}\[\]-]{0,200}"
_NUMBER = re.compile(r"-?\d{1,30}(\.\d{1,30})?")
_QUOTED = re.compile(rf"'({_LITERAL})'(?:::(.+))?")
_PG_NEGATIVE = re.compile(r"\((-\d{1,30}(\.\d{1,30})?)\)")
_NEXTVAL = re.compile(r"nextval\('([A-Za-z0-9_.\"]+)'::regclass\)")
_CALLS = {"now()": "now()", "current_timestamp": "CURRENT_TIMESTAMP"}
_KEYWORDS = {"true": "true", "false": "false", "null": "NULL"}
# ON DELETE / ON UPDATE, as pg_constraint and PRAGMA foreign_key_list spell them.
ACTIONS = ("NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT")
PG_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
SEQUENCE_PRIVILEGES = ("SELECT", "UPDATE", "USAGE")
PUBLIC = "PUBLIC"
IDENTITY = {"a": "ALWAYS", "d": "BY DEFAULT"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None = None  # the validated default, as SQL this module wrote
    identity: str | None = None  # "ALWAYS" or "BY DEFAULT" (PostgreSQL)


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    table: str  # the table on the other side: referenced, or (for ``referencing``) referencing
    other_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass(frozen=True)
class Index:
    name: str | None
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class Grant:
    grantee: str
    privilege: str


@dataclass(frozen=True)
class Sequence:
    column: str
    schema: str | None
    name: str
    last_value: int
    is_called: bool
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class TableDef:
    """A validated description: every name, type and default in it has been checked."""

    vendor: str
    table: str
    columns: tuple[Column, ...]
    primary_key: Index | None
    unique: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    referencing: tuple[ForeignKey, ...] = ()  # other tables' foreign keys into this one
    sequences: tuple[Sequence, ...] = ()
    owner: str | None = None
    grants: tuple[Grant, ...] = ()
    autoincrement: bool = False  # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def order_by(self) -> tuple[str, ...]:
        """The primary key, else every column: a fixed order for the rows file."""
        return self.primary_key.columns if self.primary_key else self.column_names

    def as_json(self) -> dict[str, Any]:
        """The description as a backup stores it."""
        data = asdict(self)
        data.pop("notes")
        return data


# ---- checking values ---------------------------------------------------------------------------


def identifier(value: Any, what: str) -> str:
    """``value`` if it is a plain SQL identifier, else DefinitionError."""
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise DefinitionError(f"{what} {value!r} is not a plain SQL identifier")
    return value


def quote(name: str | None) -> str:
    """A checked identifier in double quotes (Django's quote_name passes quoted text through).

    None, the name of an unnamed constraint, is refused like any other non-identifier.
    """
    return f'"{identifier(name, "name")}"'


def column_type(value: Any, vendor: str, what: str) -> str:
    """``value`` if it is a type on the allow-list of ``vendor``."""
    pattern = _PG_TYPE if vendor == "postgresql" else _SQLITE_TYPE
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise DefinitionError(f"{what} has type {value!r}, which is not on the allow-list")
    return value


def default_sql(text: Any, vendor: str, column: str, sequence: Sequence | None) -> str | None:
    """The SQL this module writes for a recorded default, or DefinitionError.

    Only ``now()``/CURRENT_TIMESTAMP, ``nextval`` of the column's own sequence, true,
    false, NULL, a number and a short quoted literal (optionally cast to an allowed type)
    are accepted; everything else, ``(SELECT ...)`` included, is refused.
    """
    if text is None:
        return None
    where = f"the default of column {column!r}"
    if not isinstance(text, str):
        raise DefinitionError(f"{where} is not text")
    value = text.strip()
    lowered = value.lower()
    if lowered in _CALLS:
        return _CALLS[lowered]
    if lowered in _KEYWORDS:
        return _KEYWORDS[lowered]
    if vendor == "postgresql" and lowered.startswith("null::"):
        return f"NULL::{column_type(value[6:], vendor, where)}"
    if _NUMBER.fullmatch(value):
        return value
    if vendor == "postgresql" and (negative := _PG_NEGATIVE.fullmatch(value)):
        return f"({negative.group(1)})"
    if quoted := _QUOTED.fullmatch(value):
        literal, cast = quoted.groups()
        if cast is None:
            return f"'{literal}'"
        if vendor != "postgresql":
            raise DefinitionError(f"{where} {text!r} is not on the allow-list")
        return f"'{literal}'::{column_type(cast, vendor, where)}"
    if vendor == "postgresql" and (nextval := _NEXTVAL.fullmatch(value)):
        named = nextval.group(1).replace('"', "").split(".")
        if (
            sequence is not None
            and named[-1] == sequence.name
            and (len(named) == 1 or (len(named) == 2 and named[0] == sequence.schema))
        ):
            return f"nextval('{sequence_name(sequence)}'::regclass)"
        raise DefinitionError(f"{where} {text!r} takes values from another sequence")
    raise DefinitionError(f"{where} {text!r} is not on the allow-list")


def sequence_name(sequence: Sequence) -> str:
    """The sequence's quoted, schema-qualified name."""
    if sequence.schema:
        return f"{quote(sequence.schema)}.{quote(sequence.name)}"
    return quote(sequence.name)


# ---- validating a description ------------------------------------------------------------------


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DefinitionError(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise DefinitionError(f"{what} is not a list")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise DefinitionError(f"{what} is not true or false")
    return value


def _names(value: Any, allowed: Collection[str], what: str) -> tuple[str, ...]:
    names = tuple(identifier(name, what) for name in _list(value, what))
    if not names:
        raise DefinitionError(f"{what} names no column")
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise DefinitionError(f"{what} names {', '.join(unknown)}, not a column of the table")
    return names


def _action(value: Any, what: str) -> str:
    if not isinstance(value, str) or value not in ACTIONS:
        raise DefinitionError(f"{what} {value!r} is not one of {', '.join(ACTIONS)}")
    return value


def _grants(value: Any, privileges: Collection[str], what: str) -> tuple[Grant, ...]:
    grants = []
    for item in _list(value, what):
        item = _mapping(item, what)
        grantee = item.get("grantee")
        if grantee != PUBLIC:
            grantee = identifier(grantee, f"{what}: grantee")
        if item.get("privilege") not in privileges:
            raise DefinitionError(f"{what}: privilege {item.get('privilege')!r} is not allowed")
        grants.append(Grant(grantee, item["privilege"]))
    return tuple(grants)


def _index(item: Any, columns: Collection[str], what: str, named: bool) -> Index:
    item = _mapping(item, what)
    name = item.get("name")
    if named or name is not None:
        name = identifier(name, f"{what} name")
    return Index(name, _names(item.get("columns"), columns, what), _flag(item.get("unique"), what))


def _foreign_key(
    item: Any, own: Collection[str], other: Collection[str] | None, what: str, named: bool
) -> ForeignKey:
    item = _mapping(item, what)
    name = item.get("name")
    if named or name is not None:
        name = identifier(name, f"{what} name")
    table = identifier(item.get("table"), f"{what} table")
    other_columns = tuple(
        identifier(name_, f"{what} column") for name_ in _list(item.get("other_columns"), what)
    )
    if other is not None:
        other_columns = _names(list(other_columns), other, what)
    columns = _names(item.get("columns"), own, what)
    if len(columns) != len(other_columns):
        raise DefinitionError(f"{what} pairs {len(columns)} columns with {len(other_columns)}")
    return ForeignKey(
        name,
        columns,
        table,
        other_columns,
        _action(item.get("on_delete"), f"{what} ON DELETE"),
        _action(item.get("on_update"), f"{what} ON UPDATE"),
        _flag(item.get("deferrable"), what),
        _flag(item.get("initially_deferred"), what),
    )


def validate(
    data: Any,
    *,
    vendor: str,
    table: str,
    legacy_tables: Collection[str],
    columns_of: Any = None,
) -> TableDef:
    """A TableDef from a description read back from a backup, or DefinitionError.

    ``legacy_tables`` are the configured legacy tables: the only tables a foreign key may
    point at or come from. ``columns_of(name)`` gives another table's columns as the
    database has them now (for foreign keys from other tables into this one).
    """
    data = _mapping(data, "the definition")
    if data.get("vendor") != vendor:
        raise DefinitionError(f"the definition is for {data.get('vendor')!r}, this is {vendor}")
    if data.get("table") != table:
        raise DefinitionError(f"the definition is of table {data.get('table')!r}, not {table!r}")
    identifier(table, "table")
    pg = vendor == "postgresql"

    sequences: list[Sequence] = []
    raw_columns = _list(data.get("columns"), "columns")
    names = [identifier(_mapping(c, "a column").get("name"), "column") for c in raw_columns]
    if not names or len(set(names)) != len(names):
        raise DefinitionError("the columns are missing or named twice")
    for item in _list(data.get("sequences", []), "sequences"):
        item = _mapping(item, "a sequence")
        if not pg:
            raise DefinitionError("sequences are PostgreSQL's")
        schema = item.get("schema")
        if schema is not None:
            identifier(schema, "sequence schema")
        last_value, is_called = item.get("last_value"), item.get("is_called")
        if not isinstance(last_value, int) or isinstance(last_value, bool):
            raise DefinitionError("a sequence's last_value is not a whole number")
        sequences.append(
            Sequence(
                column=_names([item.get("column")], names, "a sequence's column")[0],
                schema=schema,
                name=identifier(item.get("name"), "sequence"),
                last_value=last_value,
                is_called=_flag(is_called, "a sequence's is_called"),
                grants=_grants(item.get("grants", []), SEQUENCE_PRIVILEGES, "sequence grants"),
            )
        )
    by_column = {s.column: s for s in sequences}
    if len(by_column) != len(sequences):
        raise DefinitionError("two sequences for one column")

    columns = []
    for item, name in zip(raw_columns, names, strict=True):
        what = f"column {name!r}"
        type_ = column_type(item.get("type"), vendor, what)
        identity = item.get("identity")
        if identity is not None and (not pg or identity not in IDENTITY.values()):
            raise DefinitionError(f"{what} has identity {identity!r}")
        default = None
        if identity is None:
            default = default_sql(item.get("default"), vendor, name, by_column.get(name))
        elif item.get("default") is not None:
            raise DefinitionError(f"{what} is an identity column with a default")
        columns.append(Column(name, type_, _flag(item.get("not_null"), what), default, identity))

    legacy = set(legacy_tables) | {table}
    foreign_keys = []
    for item in _list(data.get("foreign_keys", []), "foreign keys"):
        fk = _foreign_key(item, names, None, "a foreign key", named=pg)
        if fk.table not in legacy:
            raise DefinitionError(
                f"a foreign key points at {fk.table!r}, which is not a configured legacy table"
            )
        if fk.table == table:
            _names(list(fk.other_columns), names, "a foreign key")
        foreign_keys.append(fk)

    referencing = []
    for item in _list(data.get("referencing", []), "referencing foreign keys"):
        if not pg:
            raise DefinitionError("foreign keys from other tables are restored on PostgreSQL only")
        item = _mapping(item, "a referencing foreign key")
        other = identifier(item.get("table"), "a referencing foreign key's table")
        if other not in legacy_tables or other == table:
            raise DefinitionError(
                f"a foreign key comes from {other!r}, which is not a configured legacy table"
            )
        other_columns = columns_of(other) if columns_of else None
        if other_columns is None:
            raise DefinitionError(f"{other!r}, whose foreign key points here, does not exist")
        # Stored from this table's side: columns are the other table's, other_columns ours.
        fk = _foreign_key(item, other_columns, names, "a referencing foreign key", named=True)
        referencing.append(fk)

    primary = data.get("primary_key")
    primary_key = None if primary is None else _index(primary, names, "the primary key", pg)
    owner = data.get("owner")
    if owner is not None:
        identifier(owner, "owner")
    return TableDef(
        vendor=vendor,
        table=table,
        columns=tuple(columns),
        primary_key=primary_key,
        unique=tuple(
            _index(i, names, "a unique constraint", pg)
            for i in _list(data.get("unique", []), "unique")
        ),
        foreign_keys=tuple(foreign_keys),
        indexes=tuple(
            _index(i, names, "an index", True) for i in _list(data.get("indexes", []), "indexes")
        ),
        referencing=tuple(referencing),
        sequences=tuple(sequences),
        owner=owner,
        grants=_grants(data.get("grants", []), TABLE_PRIVILEGES, "table grants"),
        autoincrement=_flag(data.get("autoincrement", False), "autoincrement"),
    )


# ---- the statements that re-create a table ----------------------------------------------------


def _columns(names: Iterable[str]) -> str:
    return ", ".join(quote(name) for name in names)


def _fk_clause(
    fk: ForeignKey, referenced: str, own: tuple[str, ...], other: tuple[str, ...]
) -> str:
    sql = f"FOREIGN KEY ({_columns(own)}) REFERENCES {quote(referenced)} ({_columns(other)})"
    if fk.on_delete != "NO ACTION":
        sql += f" ON DELETE {_action(fk.on_delete, 'ON DELETE')}"
    if fk.on_update != "NO ACTION":
        sql += f" ON UPDATE {_action(fk.on_update, 'ON UPDATE')}"
    if fk.deferrable:
        sql += " DEFERRABLE INITIALLY DEFERRED" if fk.initially_deferred else " DEFERRABLE"
    return sql


def _column_sql(column: Column, inline_key: str = "") -> str:
    sql = f"{quote(column.name)} {column.type}"
    if column.identity:
        sql += f" GENERATED {column.identity} AS IDENTITY"
    elif column.default is not None:
        sql += f" DEFAULT {column.default}"
    if column.not_null:
        sql += " NOT NULL"
    return sql + inline_key


def create_statements(d: TableDef) -> list[str]:
    """What runs before the rows are loaded: sequences, the table, its owner (PostgreSQL)."""
    name = quote(d.table)
    if d.vendor == "postgresql":
        identity = {c.name for c in d.columns if c.identity}
        statements = [
            f"CREATE SEQUENCE IF NOT EXISTS {sequence_name(s)}"
            for s in d.sequences
            if s.column not in identity
        ]
        statements.append(f"CREATE TABLE {name} ({', '.join(map(_column_sql, d.columns))})")
        return statements
    # SQLite cannot add keys to a table later: they are part of CREATE TABLE.
    parts = []
    for column in d.columns:
        inline = ""
        if d.autoincrement and d.primary_key and d.primary_key.columns == (column.name,):
            inline = " PRIMARY KEY AUTOINCREMENT"
        parts.append(_column_sql(column, inline))
    if d.primary_key and not d.autoincrement:
        parts.append(f"PRIMARY KEY ({_columns(d.primary_key.columns)})")
    parts += [f"UNIQUE ({_columns(u.columns)})" for u in d.unique]
    parts += [_fk_clause(fk, fk.table, fk.columns, fk.other_columns) for fk in d.foreign_keys]
    return [f"CREATE TABLE {name} ({', '.join(parts)})"]


def owner_statement(d: TableDef) -> str | None:
    """ALTER TABLE ... OWNER TO, or None."""
    return f"ALTER TABLE {quote(d.table)} OWNER TO {quote(d.owner)}" if d.owner else None


def finish_statements(d: TableDef) -> list[str]:
    """What runs after the rows are loaded: keys, indexes, foreign keys in, sequence owners."""
    name = quote(d.table)
    statements = []
    if d.vendor == "postgresql":
        if d.primary_key:
            statements.append(
                f"ALTER TABLE {name} ADD CONSTRAINT {quote(d.primary_key.name)}"
                f" PRIMARY KEY ({_columns(d.primary_key.columns)})"
            )
        statements += [
            f"ALTER TABLE {name} ADD CONSTRAINT {quote(u.name)} UNIQUE ({_columns(u.columns)})"
            for u in d.unique
        ]
        statements += [
            f"ALTER TABLE {name} ADD CONSTRAINT {quote(fk.name)}"
            f" {_fk_clause(fk, fk.table, fk.columns, fk.other_columns)}"
            for fk in d.foreign_keys
        ]
    statements += [
        f"CREATE {'UNIQUE ' if i.unique else ''}INDEX {quote(i.name)} ON {name}"
        f" ({_columns(i.columns)})"
        for i in d.indexes
    ]
    if d.vendor == "postgresql":
        statements += [
            f"ALTER TABLE {quote(fk.table)} ADD CONSTRAINT {quote(fk.name)}"
            f" {_fk_clause(fk, d.table, fk.columns, fk.other_columns)}"
            for fk in d.referencing
        ]
        identity = {c.name for c in d.columns if c.identity}
        statements += [
            f"ALTER SEQUENCE {sequence_name(s)} OWNED BY {name}.{quote(s.column)}"
            for s in d.sequences
            if s.column not in identity
        ]
    return statements


def grant_statements(d: TableDef) -> list[str]:
    """The recorded grants, each a validated (privilege, role) pair."""

    def grantee(grant: Grant) -> str:
        return PUBLIC if grant.grantee == PUBLIC else quote(grant.grantee)

    statements = [
        f"GRANT {g.privilege} ON SEQUENCE {sequence_name(s)} TO {grantee(g)}"
        for s in d.sequences
        for g in s.grants
    ]
    statements += [
        f"GRANT {g.privilege} ON TABLE {quote(d.table)} TO {grantee(g)}" for g in d.grants
    ]
    return statements


def drop_referencing_statements(d: TableDef) -> list[str]:
    """Other tables' foreign keys into this one, dropped before the table (never CASCADE)."""
    return [
        f"ALTER TABLE {quote(fk.table)} DROP CONSTRAINT {quote(fk.name)}" for fk in d.referencing
    ]
