"""Retiring the legacy ``nats_user_credential`` table, and bringing it back.

This is the one place authcore deliberately changes a legacy table, and only on an
explicit command (``drop_legacy_nats_credentials``). The drop happens only after:

1. the NATS copy verifies and every credential passes its checks (``natscreds.audit``);
2. a complete backup is written and read back: the rows as JSON lines and a manifest that
   describes the table (``natscreds.tabledef``: columns, keys, indexes, foreign keys from
   other tables, its sequence and grants) and lists every file's sha256, signed with an
   HMAC keyed from SECRET_KEY;

all inside one transaction that holds the table locked, so no row can slip in between
the backup and the drop.

``restore`` trusts nothing in the folder until the manifest's HMAC verifies and every file
matches it; even then it runs no SQL text from the folder: the table is re-created from
the validated description (``tabledef.validate``), rows go in as parameters, and the
reloaded rows are exported again and must match the backup's checksum.

PostgreSQL values are backed up in their text form (what ``pg_dump`` uses) and cast back
on restore, so every type survives exactly; SQLite values keep their storage class.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.crypto import salted_hmac

from natscreds import table_catalog, tabledef
from natscreds.tabledef import DefinitionError, TableDef, quote

FORMAT = "authcore-legacy-table-backup/2"
ROWS, MANIFEST, SIGNATURE, SUMS = "rows.jsonl", "manifest.json", "manifest.hmac", "SHA256SUMS"
FILES = frozenset({ROWS, MANIFEST, SIGNATURE, SUMS})
# Its own salt, so this HMAC can stand for nothing else signed with SECRET_KEY.
HMAC_SALT = "natscreds.retire.backup-manifest"
_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})


class BackupError(Exception):
    """A backup that is missing, changed, or does not fit this database."""


@dataclass(frozen=True)
class Backup:
    """What was written or restored: where, how many rows, the rows' checksum, and notes."""

    directory: Path
    table: str
    rows: int
    sha256: str
    notes: tuple[str, ...] = ()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sign(manifest: bytes, secret: str | None = None) -> str:
    """The manifest's HMAC-SHA256 (hex), keyed from SECRET_KEY (or ``secret``)."""
    return salted_hmac(
        HMAC_SALT, manifest, secret=secret or settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def _signed(manifest: bytes, signature: str) -> bool:
    """True if ``signature`` is the manifest's HMAC under SECRET_KEY or one of its fallbacks."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(sign(manifest, secret), signature) for secret in secrets)


# ---- the rows ---------------------------------------------------------------------------------


def _select_sql(d: TableDef) -> str:
    """Every row, in a fixed order, in the form the backup stores."""
    if d.vendor == "postgresql":
        # Text output: exactly what CAST(... AS type) reads back.
        columns = ", ".join(f"{quote(name)}::text" for name in d.column_names)
    else:
        # "+col" is not a column reference, so no type converter rewrites the stored value.
        columns = ", ".join(f"+{quote(name)}" for name in d.column_names)
    order = ", ".join(quote(name) for name in d.order_by)
    return f"SELECT {columns} FROM {quote(d.table)} ORDER BY {order}"


def _encode(value: Any, type_: str) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, str) and type_ in _INTEGER_TYPES:
        return int(value)
    if isinstance(value, str) and type_ == "boolean":
        return value == "t"
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$bytes"}:
        return base64.b64decode(value["$bytes"])
    if isinstance(value, dict | list):
        raise BackupError("a row holds a value that is neither text, a number nor bytes")
    return value


def _export(connection: BaseDatabaseWrapper, d: TableDef) -> Iterator[bytes]:
    """The table's rows as JSON lines (bytes), streamed."""
    names = d.column_names
    types = [c.type for c in d.columns]
    with connection.chunked_cursor() as cursor:
        cursor.execute(_select_sql(d))
        while batch := cursor.fetchmany(2000):
            for row in batch:
                record = {n: _encode(v, t) for n, v, t in zip(names, row, types, strict=True)}
                yield json.dumps(record, ensure_ascii=False, sort_keys=False).encode() + b"\n"


def exported_sha256(connection: BaseDatabaseWrapper, d: TableDef) -> str:
    """The checksum the table's rows would have in a backup made now."""
    digest = hashlib.sha256()
    for line in _export(connection, d):
        digest.update(line)
    return digest.hexdigest()


# ---- writing and checking a backup -------------------------------------------------------------


def write_backup(
    connection: BaseDatabaseWrapper,
    table: str,
    directory: Path,
    *,
    key: str,
    legacy_tables: Collection[str],
) -> Backup:
    """Write the rows and the signed manifest of ``table`` into ``directory``.

    Refuses (BackupError, before writing anything) a table that a restore could not
    re-create from a description, and a SECRET_KEY made up for this process only. The
    directory must not exist yet; it and its files are readable by the owner only (the
    rows hold seed hashes).
    """
    if getattr(settings, "SECRET_KEY_IS_RANDOM", False):
        raise BackupError(
            "SECRET_KEY is not set: the backup is signed with it, and a key made up for this "
            "process could never verify it again. Set SECRET_KEY first."
        )
    try:
        d = table_catalog.describe(connection, table, legacy_tables)
    except DefinitionError as exc:
        raise BackupError(f"{table} cannot be re-created from a description: {exc}") from exc
    directory.mkdir(parents=True, mode=0o700)
    rows_path = directory / ROWS
    count = 0
    fd = os.open(rows_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for line in _export(connection, d):
            handle.write(line)
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    rows_sha256 = _sha256(rows_path)
    manifest = {
        "format": FORMAT,
        "key": key,
        "table": table,
        "vendor": connection.vendor,
        "created_at": datetime.now(tz=UTC).isoformat(),
        "rows": count,
        "files": {ROWS: rows_sha256},
        "definition": d.as_json(),
    }
    manifest_bytes = json.dumps(manifest, indent=2).encode() + b"\n"
    _write_private(directory / MANIFEST, manifest_bytes)
    _write_private(directory / SIGNATURE, sign(manifest_bytes).encode() + b"\n")
    _write_private(directory / SUMS, _sums(directory).encode())
    return Backup(directory=directory, table=table, rows=count, sha256=rows_sha256)


def _sums(directory: Path) -> str:
    """SHA256SUMS, for ``sha256sum -c``: every other file of the backup."""
    return "".join(f"{_sha256(directory / name)}  {name}\n" for name in (ROWS, MANIFEST, SIGNATURE))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def check_backup(directory: Path) -> dict[str, Any]:
    """The manifest of an unchanged backup made with this SECRET_KEY; BackupError otherwise.

    The folder must hold exactly the backup's files; the manifest's HMAC must verify; every
    file must match the sha256 the manifest lists (SHA256SUMS is made again and compared).
    The manifest's description is not validated here: see ``definition``.
    """
    if not directory.is_dir() or not (directory / MANIFEST).is_file():
        raise BackupError(f"{directory} is not a backup directory (no {MANIFEST})")
    present = {entry.name for entry in directory.iterdir()}
    if extra := sorted(present - FILES):
        raise BackupError(f"{directory} holds {', '.join(extra)}, which no backup has: refused")
    if missing := sorted(FILES - present):
        raise BackupError(f"{directory} lacks {', '.join(missing)}: refused")
    manifest_bytes = (directory / MANIFEST).read_bytes()
    signature = (directory / SIGNATURE).read_text().strip()
    if not _signed(manifest_bytes, signature):
        raise BackupError(
            f"{MANIFEST} does not carry this installation's signature (changed, or made with "
            "another SECRET_KEY): refused"
        )
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} is not JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {ROWS}:
        raise BackupError(f"{MANIFEST} does not list the backup's files")
    if not hmac.compare_digest(str(files[ROWS]), _sha256(directory / ROWS)):
        raise BackupError(
            f"{directory / ROWS} does not match its checksum in the signed manifest: changed"
        )
    if (directory / SUMS).read_text() != _sums(directory):
        raise BackupError(f"{directory / SUMS} does not match the backup's files: changed")
    with (directory / ROWS).open("rb") as handle:
        lines = sum(1 for _ in handle)
    if lines != manifest.get("rows"):
        raise BackupError(f"{ROWS} has {lines} rows, the manifest says {manifest.get('rows')}")
    return manifest


def definition(
    connection: BaseDatabaseWrapper,
    manifest: dict[str, Any],
    *,
    key: str,
    table: str,
    legacy_tables: Collection[str],
) -> TableDef:
    """The manifest's table description, validated for ``table`` on this database."""
    if manifest.get("key") != key or manifest.get("table") != table:
        raise BackupError(
            f"the backup is of {manifest.get('key')!r} as table {manifest.get('table')!r}; "
            f"this installation names {key!r} {table!r}"
        )
    if manifest.get("vendor") != connection.vendor:
        raise BackupError(
            f"the backup is from {manifest.get('vendor')}, this is {connection.vendor}"
        )
    try:
        return tabledef.validate(
            manifest.get("definition"),
            vendor=connection.vendor,
            table=table,
            legacy_tables=legacy_tables,
            columns_of=lambda other: table_catalog.columns_of(connection, other),
        )
    except DefinitionError as exc:
        raise BackupError(f"the backup's table definition is refused: {exc}") from exc


# ---- dropping and restoring --------------------------------------------------------------------


def lock(connection: BaseDatabaseWrapper, table: str) -> None:
    """Keep every other session off the table until the transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")


def drop(connection: BaseDatabaseWrapper, d: TableDef) -> None:
    """Drop the table: first the foreign keys of other tables that point at it (recorded in
    the backup), never CASCADE, so anything else that depends on it stops the drop."""
    with connection.cursor() as cursor:
        for statement in tabledef.drop_referencing_statements(d):
            cursor.execute(statement)
        cursor.execute(f"DROP TABLE {quote(d.table)}")


def _missing_roles(connection: BaseDatabaseWrapper, d: TableDef) -> list[str]:
    roles = {g.grantee for g in d.grants} | {g.grantee for s in d.sequences for g in s.grants}
    roles = (roles - {tabledef.PUBLIC}) | ({d.owner} if d.owner else set())
    if not roles:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [sorted(roles)])
        return sorted(roles - {name for (name,) in cursor.fetchall()})


def restore(
    connection: BaseDatabaseWrapper,
    directory: Path,
    *,
    key: str,
    table: str,
    legacy_tables: Collection[str],
    batch: int = 500,
) -> Backup:
    """Recreate the backed-up table and reload its rows; call inside a transaction.

    Refuses a changed or foreign backup, a description that does not validate, another
    database engine, or a table that exists. After the load, the rows are exported again
    and must give the backup's own checksum.
    """
    manifest = check_backup(directory)
    d = definition(connection, manifest, key=key, table=table, legacy_tables=legacy_tables)
    with connection.cursor() as cursor:
        if table in connection.introspection.table_names(cursor):
            raise BackupError(f"table {table!r} exists: restore only into a database without it")
    notes = []
    if connection.vendor == "postgresql":
        if missing := _missing_roles(connection, d):
            raise BackupError(f"the backup names roles this server lacks: {', '.join(missing)}")
    with connection.cursor() as cursor:
        for statement in tabledef.create_statements(d):
            cursor.execute(statement)
        if (owner_statement := tabledef.owner_statement(d)) is not None:
            cursor.execute("SELECT current_user")
            if d.owner != cursor.fetchone()[0]:
                cursor.execute(owner_statement)
    _load(connection, d, directory / ROWS, batch)
    with connection.cursor() as cursor:
        for statement in tabledef.finish_statements(d):
            cursor.execute(statement)
        for sequence in d.sequences:
            cursor.execute(
                "SELECT setval(%s::regclass, %s, %s)",
                [tabledef.sequence_name(sequence), sequence.last_value, sequence.is_called],
            )
        for statement in tabledef.grant_statements(d):
            cursor.execute(statement)
    grants = [f"{g.privilege} to {g.grantee}" for g in d.grants]
    if grants:
        notes.append(f"grants restored on {table}: {', '.join(grants)}")
    restored = exported_sha256(connection, d)
    if restored != manifest["files"][ROWS]:
        raise BackupError("the reloaded rows differ from the backup; nothing was restored")
    return Backup(directory, table, manifest["rows"], restored, tuple(notes))


def _load(connection: BaseDatabaseWrapper, d: TableDef, path: Path, batch: int) -> None:
    names = d.column_names
    if connection.vendor == "postgresql":
        marks = [f"CAST(%s AS {c.type})" for c in d.columns]  # types from the allow-list
    else:
        marks = ["%s"] * len(names)
    row_marks = f"({', '.join(marks)})"
    overriding = " OVERRIDING SYSTEM VALUE" if any(c.identity for c in d.columns) else ""
    head = (
        f"INSERT INTO {quote(d.table)} ({', '.join(quote(n) for n in names)}){overriding} VALUES "
    )
    per_statement = max(1, min(batch, 900 // max(len(names), 1)))  # old SQLite: 999 parameters
    pending: list[list[Any]] = []

    def flush() -> None:
        if pending:
            with connection.cursor() as cursor:
                cursor.execute(
                    head + ", ".join([row_marks] * len(pending)),
                    [value for row in pending for value in row],
                )
            pending.clear()

    with path.open("rb") as handle:
        for line in handle:
            record = json.loads(line)
            if not isinstance(record, dict) or set(record) != set(names):
                raise BackupError(f"a line of {ROWS} does not have the table's columns")
            pending.append([_decode(record[name]) for name in names])
            if len(pending) >= per_statement:
                flush()
    flush()
