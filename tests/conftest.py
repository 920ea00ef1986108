"""Shared fixtures: legacy tables made the way each database really has them.

On PostgreSQL the legacy tables come from tests/sql/legacy_schema.postgresql.sql, the DDL
of the old services verbatim (uuid, inet, jsonb, a table named "user"). On SQLite they are
made from the legacy models, as the demo does. Either way they live inside the test's
transaction and vanish with it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from legacy.catalog import LEGACY_MODELS
from legacy.demo import create_legacy_tables

DDL = Path(__file__).parent / "sql" / "legacy_schema.postgresql.sql"


def _model(key: str) -> Any:
    return apps.get_model("legacy", LEGACY_MODELS[key])


def _defaults(key: str) -> dict[str, Any]:
    """Values the legacy DDL fills in by itself on PostgreSQL; SQLite tables made from the
    models have no database defaults, so the factory supplies them: the models' defaults,
    and the few the models leave to the legacy service."""
    fields = _model(key)._meta.concrete_fields
    declared = {f.name: f.get_default() for f in fields if f.has_default()}
    return {**declared, **_NOT_IN_THE_MODELS.get(key, {})}


_NOT_IN_THE_MODELS: dict[str, dict[str, Any]] = {
    "users": {"role": "personal_only", "password_hash": ""},
    "user_api_keys": {"name": "key"},
    "user_api_key": {"name": "key"},
}


def _uuid_keyed(key: str) -> bool:
    return _model(key)._meta.pk.get_internal_type() == "UUIDField"


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests when the suite runs on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (TEST_DATABASE=sqlite)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bcrypt_hash(password: str, prefix: bytes = b"2b", rounds: int = 4) -> str:
    """A real bcrypt hash (low cost: the cost is not what is tested)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds, prefix=prefix)).decode()


class LegacyDB:
    """Creates and inspects legacy rows with plain SQL, so drifted tables work too."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self._ids = itertools.count(1000)

    def table(self, key: str) -> str:
        return apps.get_model("legacy", LEGACY_MODELS[key])._meta.db_table

    def _adapt(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, uuid.UUID):
            return value.hex if self.vendor == "sqlite" else str(value)
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value

    def columns(self, key: str) -> set[str]:
        with connection.cursor() as cursor:
            description = connection.introspection.get_table_description(cursor, self.table(key))
        return {c.name for c in description}

    def insert(self, key: str, **values: Any) -> Any:
        """Insert one row into legacy table ``key``; return its primary key."""
        row = {**_defaults(key), **values}
        row.setdefault("created_at", timezone.now())
        if _uuid_keyed(key):
            row.setdefault("id", uuid.uuid4())
        elif self.vendor == "sqlite":
            row.setdefault("id", next(self._ids))
        if key == "users" and "password_hash" in row and "password_hash" not in self.columns(key):
            row["hashed_password"] = row.pop("password_hash")
        row = {k: v for k, v in row.items() if k in self.columns(key)}
        names = ", ".join(connection.ops.quote_name(c) for c in row)
        marks = ", ".join(["%s"] * len(row))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(self.table(key))} ({names})"
                f" VALUES ({marks}) RETURNING id",
                [self._adapt(v) for v in row.values()],
            )
            return cursor.fetchone()[0]

    def user(self, email: str, password: str | None = "pw", **values: Any) -> Any:
        """A row of the auth service's ``users`` with a real bcrypt hash of ``password``."""
        values.setdefault("password_hash", bcrypt_hash(password) if password else "")
        return self.insert("users", email=email, **values)

    def api_key(self, user_id: Any, token: str, **values: Any) -> Any:
        values.setdefault("key_prefix", token[:8])
        return self.insert(
            "user_api_keys", user_id=user_id, key_hash=sha256_hex(token), **values
        )

    def people_with_keys(self, count: int, first: int = 1) -> None:
        """``count`` people p<n>@example.com from n = ``first``, each with one key
        token-<n>; their roles alternate between member and admin."""
        for n in range(first, first + count):
            role = "member" if n % 2 else "admin"
            self.api_key(self.user(f"p{n}@example.com", "pw", role=role), f"token-{n}")

    def allow_orphans(self, key: str) -> None:
        """Drop the table's foreign keys, as deployments that never had them (PostgreSQL)."""
        if self.vendor != "postgresql":
            return  # SQLite legacy tables are made without enforced foreign keys
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [connection.ops.quote_name(self.table(key))],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(
                    f"ALTER TABLE {connection.ops.quote_name(self.table(key))}"
                    f" DROP CONSTRAINT {connection.ops.quote_name(name)}"
                )

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])

    def snapshot(self, key: str) -> list[tuple[Any, ...]]:
        """Every row of a legacy table, in a fixed order (to prove it was not touched)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM {connection.ops.quote_name(self.table(key))} ORDER BY 1"
            )
            return cursor.fetchall()

    def snapshot_all(self) -> dict[str, list[tuple[Any, ...]]]:
        return {key: self.snapshot(key) for key in LEGACY_MODELS}


def create_postgres_legacy_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(DDL.read_text())


def drop_legacy_tables() -> None:
    with connection.cursor() as cursor:
        for key in reversed(list(LEGACY_MODELS)):
            table = apps.get_model("legacy", LEGACY_MODELS[key])._meta.db_table
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)}")


def _create_tables() -> None:
    if connection.vendor == "postgresql":
        create_postgres_legacy_tables()
    else:
        create_legacy_tables()


@pytest.fixture
def legacy(db) -> LegacyDB:
    """Legacy tables inside the test's transaction (gone after the test)."""
    _create_tables()
    return LegacyDB()


@pytest.fixture
def legacy_committed(transactional_db) -> Iterator[LegacyDB]:
    """Legacy tables for tests that run migrations (which need real commits)."""
    drop_legacy_tables()
    _create_tables()
    yield LegacyDB()
    drop_legacy_tables()


@pytest.fixture
def every_source_verified(settings) -> None:
    """Every old service declared as having confirmed its addresses: merged rows then
    bring what they have (the behaviour these tests describe), none is held."""
    settings.LEGACY_VERIFIED_SOURCES = ["auth_service", "shared_models", "fastapi_users"]
