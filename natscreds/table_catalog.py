"""Reading a legacy table's definition from the database's catalog (PostgreSQL or SQLite)
into the plain description natscreds.tabledef validates: the one place that asks the
catalog, so that the restore's statements come from the description alone."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from natscreds.tabledef import (
    IDENTITY,
    PG_ACTIONS,
    DefinitionError,
    TableDef,
    identifier,
    quote,
    validate,
)


def _rows(connection: BaseDatabaseWrapper, sql: str, params: list[Any] | None = None) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        rows: list[Any] = cursor.fetchall()
    return rows


def describe(
    connection: BaseDatabaseWrapper, table: str, legacy_tables: Collection[str]
) -> TableDef:
    """The table as the database defines it, validated as a restore would validate it.

    Raises DefinitionError for anything a restore could not re-create from a description.
    """
    identifier(table, "table")
    if connection.vendor == "postgresql":
        data = _describe_postgres(connection, table)
    elif connection.vendor == "sqlite":
        data = _describe_sqlite(connection, table)
    else:
        raise DefinitionError(
            f"tables are described on PostgreSQL or SQLite, not {connection.vendor}"
        )
    return validate(
        data,
        vendor=connection.vendor,
        table=table,
        legacy_tables=legacy_tables,
        columns_of=lambda other: columns_of(connection, other),
    )


def columns_of(connection: BaseDatabaseWrapper, table: str) -> list[str] | None:
    """The columns of ``table`` as the database has them now, or None if it does not exist."""
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return None
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def _pg_names(connection: BaseDatabaseWrapper, relation: int, attnums: list[int]) -> list[str]:
    names = dict(
        _rows(
            connection,
            "SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s AND attnum = ANY(%s)",
            [relation, attnums],
        )
    )
    return [names[n] for n in attnums]


def _describe_postgres(connection: BaseDatabaseWrapper, table: str) -> dict[str, Any]:
    quoted = quote(table)
    (oid,) = _rows(connection, "SELECT %s::regclass::oid", [quoted])[0]
    columns = []
    for name, type_, not_null, default, identity, generated, collated in _rows(
        connection,
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        " pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,"
        " a.attcollation <> t.typcollation FROM pg_attribute a"
        " JOIN pg_type t ON t.oid = a.atttypid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [oid],
    ):
        if generated:
            raise DefinitionError(f"column {name!r} is generated")
        if collated:
            raise DefinitionError(f"column {name!r} has its own collation")
        columns.append(
            {
                "name": name,
                "type": type_,
                "not_null": not_null,
                "default": None if identity else default,
                "identity": IDENTITY.get(identity),
            }
        )
    primary, unique, foreign = None, [], []
    for (
        name,
        kind,
        keys,
        other,
        other_keys,
        on_delete,
        on_update,
        deferrable,
        deferred,
        match,
    ) in _rows(
        connection,
        "SELECT conname, contype, conkey::int[], confrelid, confkey::int[], confdeltype,"
        " confupdtype, condeferrable, condeferred, confmatchtype FROM pg_constraint"
        " WHERE conrelid = %s ORDER BY contype, conname",
        [oid],
    ):
        if kind not in "puf":
            raise DefinitionError(f"constraint {name!r} is a CHECK or EXCLUDE: SQL text")
        columns_ = _pg_names(connection, oid, keys)
        if kind == "p":
            primary = {"name": name, "columns": columns_, "unique": True}
        elif kind == "u":
            unique.append({"name": name, "columns": columns_, "unique": True})
        else:
            if match != "s":
                raise DefinitionError(f"foreign key {name!r} is not MATCH SIMPLE")
            (other_name,) = _rows(
                connection, "SELECT relname FROM pg_class WHERE oid = %s", [other]
            )[0]
            foreign.append(
                {
                    "name": name,
                    "columns": columns_,
                    "table": other_name,
                    "other_columns": _pg_names(connection, other, other_keys),
                    "on_delete": PG_ACTIONS[on_delete],
                    "on_update": PG_ACTIONS[on_update],
                    "deferrable": deferrable,
                    "initially_deferred": deferred,
                }
            )
    indexes = []
    for name, unique_, keys, plain in _rows(
        connection,
        "SELECT c.relname, i.indisunique, i.indkey::int[], i.indexprs IS NULL AND i.indpred IS NULL"
        " AND am.amname = 'btree' AND NOT EXISTS (SELECT 1 FROM unnest(i.indoption) o WHERE o <> 0)"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
        " WHERE i.indrelid = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
        " WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid) ORDER BY c.relname",
        [oid],
    ):
        if not plain or 0 in keys:
            raise DefinitionError(f"index {name!r} is not a plain index of columns")
        indexes.append(
            {"name": name, "columns": _pg_names(connection, oid, keys), "unique": unique_}
        )
    referencing = []
    for name, other, keys, other_keys, on_delete, on_update, deferrable, deferred, match in _rows(
        connection,
        "SELECT conname, conrelid, conkey::int[], confkey::int[], confdeltype, confupdtype,"
        " condeferrable, condeferred, confmatchtype FROM pg_constraint"
        " WHERE confrelid = %s AND contype = 'f' AND conrelid <> confrelid ORDER BY conname",
        [oid],
    ):
        if match != "s":
            raise DefinitionError(f"foreign key {name!r} is not MATCH SIMPLE")
        (other_name,) = _rows(connection, "SELECT relname FROM pg_class WHERE oid = %s", [other])[0]
        referencing.append(
            {
                "name": name,
                "table": other_name,
                "columns": _pg_names(connection, other, keys),
                "other_columns": _pg_names(connection, oid, other_keys),
                "on_delete": PG_ACTIONS[on_delete],
                "on_update": PG_ACTIONS[on_update],
                "deferrable": deferrable,
                "initially_deferred": deferred,
            }
        )
    sequences = []
    for column in columns:
        (qualified,) = _rows(
            connection, "SELECT pg_get_serial_sequence(%s, %s)", [quoted, column["name"]]
        )[0]
        if qualified is None:
            continue
        schema, name = _rows(
            connection,
            "SELECT n.nspname, c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s::regclass",
            [qualified],
        )[0]
        relation = f"{quote(schema)}.{quote(name)}"  # checked names from the catalog
        last_value, is_called = _rows(connection, f"SELECT last_value, is_called FROM {relation}")[
            0
        ]
        sequences.append(
            {
                "column": column["name"],
                "schema": schema,
                "name": name,
                "last_value": last_value,
                "is_called": is_called,
                "grants": _pg_grants(connection, qualified),
            }
        )
    (owner,) = _rows(
        connection, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s", [oid]
    )[0]
    return {
        "vendor": "postgresql",
        "table": table,
        "columns": columns,
        "primary_key": primary,
        "unique": unique,
        "foreign_keys": foreign,
        "indexes": indexes,
        "referencing": referencing,
        "sequences": sequences,
        "owner": owner,
        "grants": _pg_grants(connection, quoted),
    }


def _pg_grants(connection: BaseDatabaseWrapper, relation: str) -> list[dict[str, str]]:
    """Privileges granted on a table or sequence to others than its owner."""
    return [
        {"grantee": grantee, "privilege": privilege}
        for grantee, privilege in _rows(
            connection,
            "SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END,"
            " g.privilege_type FROM pg_class c, aclexplode(c.relacl) g"
            " WHERE c.oid = %s::regclass AND g.grantee <> c.relowner"
            " ORDER BY 1, 2",
            [relation],
        )
    ]


def _describe_sqlite(connection: BaseDatabaseWrapper, table: str) -> dict[str, Any]:
    quoted = quote(table)
    (create,) = _rows(
        connection, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table]
    )[0]
    # The catalog's own text is read here only to spot what PRAGMAs do not report.
    for word in ("CHECK", "COLLATE", "GENERATED", "WITHOUT ROWID"):
        if re.search(rf"\b{word}\b", create, re.IGNORECASE):
            raise DefinitionError(
                f"the table's definition has {word}, which PRAGMAs do not describe"
            )
    info = _rows(connection, f"PRAGMA table_xinfo({quoted})")
    if any(hidden for *_, hidden in info):
        raise DefinitionError("the table has hidden or generated columns")
    columns = [
        {"name": name, "type": type_ or "", "not_null": bool(not_null), "default": default}
        for _, name, type_, not_null, default, _, _ in info
    ]
    keyed = sorted((row for row in info if row[5]), key=lambda row: row[5])
    primary = (
        {"name": None, "columns": [row[1] for row in keyed], "unique": True} if keyed else None
    )
    autoincrement = bool(re.search(r"\bAUTOINCREMENT\b", create, re.IGNORECASE))
    unique, indexes = [], []
    for _, name, unique_, origin, partial in _rows(connection, f"PRAGMA index_list({quoted})"):
        if origin == "pk":
            continue
        parts = _rows(connection, f"PRAGMA index_xinfo({quote(name)})")
        keys = [row for row in parts if row[5]]  # key columns, not the rowid
        if partial or any(
            cid < 0 or desc or coll.upper() != "BINARY" for _, cid, _, desc, coll, _ in keys
        ):
            raise DefinitionError(f"index {name!r} is not a plain index of columns")
        entry = {"name": name, "columns": [row[2] for row in keys], "unique": bool(unique_)}
        if origin == "u":
            unique.append({**entry, "name": None})
        else:
            indexes.append(entry)
    foreign: dict[int, dict[str, Any]] = {}
    for id_, _, other, column, other_column, on_update, on_delete, match in _rows(
        connection, f"PRAGMA foreign_key_list({quoted})"
    ):
        if other_column is None or match != "NONE":
            raise DefinitionError(f"a foreign key into {other!r} names no column or has MATCH")
        fk = foreign.setdefault(
            id_,
            {
                "name": None,
                "table": other,
                "columns": [],
                "other_columns": [],
                "on_delete": on_delete,
                "on_update": on_update,
            },
        )
        fk["columns"].append(column)
        fk["other_columns"].append(other_column)
    # PRAGMA foreign_key_list does not say which keys are deferred: all or none, then.
    deferrable = len(re.findall(r"\bDEFERRABLE\b", create, re.IGNORECASE))
    deferred = len(re.findall(r"\bDEFERRABLE INITIALLY DEFERRED\b", create, re.IGNORECASE))
    if deferrable != deferred or deferred not in (0, len(foreign)):
        raise DefinitionError("some but not all foreign keys are deferred")
    for fk in foreign.values():
        fk["deferrable"] = fk["initially_deferred"] = bool(deferred)
    return {
        "vendor": "sqlite",
        "table": table,
        "columns": columns,
        "primary_key": primary,
        "unique": unique,
        "foreign_keys": list(foreign.values()),
        "indexes": indexes,
        "autoincrement": autoincrement,
    }
