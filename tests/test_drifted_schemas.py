"""Seed 001's drift: optional columns missing, the password column renamed."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import authenticate

from accounts.models import User
from legacy.engine import copy_legacy, verify_legacy
from tests.conftest import bcrypt_hash

OPTIONAL = ["username", "full_name", "updated_at", "last_login_at", "client_id"]


def drop(legacy, *columns):
    for column in columns:
        legacy.execute(f"ALTER TABLE {legacy.table('users')} DROP COLUMN {column}")


@pytest.mark.parametrize("missing", [[c] for c in OPTIONAL] + [OPTIONAL])
def test_missing_optional_columns(legacy, missing):
    drop(legacy, *missing)
    legacy.user("ann@example.com", "pw", full_name="Ann", username="ann")

    report = copy_legacy(apps)

    assert report.tables["users"].copied == 1
    assert verify_legacy(apps).verification.ok
    assert authenticate(email="ann@example.com", password="pw") is not None


def test_password_column_called_hashed_password(legacy):
    legacy.execute(
        f"ALTER TABLE {legacy.table('users')} RENAME COLUMN password_hash TO hashed_password"
    )
    legacy.user("ann@example.com", None, password_hash=bcrypt_hash("pw"))

    copy_legacy(apps)

    assert authenticate(email="ann@example.com", password="pw") is not None
    assert verify_legacy(apps).verification.ok


def test_no_password_column_at_all_locks_accounts_and_says_so(legacy):
    drop(legacy, "password_hash")
    legacy.user("ann@example.com", None)

    report = copy_legacy(apps)

    assert any("no password column" in note for note in report.notes)
    assert not User.objects.get().has_usable_password()


def test_keys_table_missing(legacy):
    legacy.execute(f"DROP TABLE {legacy.table('user_api_keys')}")
    legacy.user("ann@example.com", "pw")

    report = copy_legacy(apps)

    assert report.tables["users"].copied == 1
    assert "user_api_keys" not in report.tables


def test_tables_under_other_names(legacy, settings):
    """A deployment that names its tables differently points settings at them."""
    model = apps.get_model("legacy", "AuthUser")
    legacy.execute(f"ALTER TABLE {legacy.table('users')} RENAME TO auth_users")
    original = model._meta.db_table
    model._meta.db_table = "auth_users"  # what LEGACY_TABLE_USERS=auth_users does at start-up
    try:
        legacy.user("ann@example.com", "pw")
        copy_legacy(apps)
    finally:
        model._meta.db_table = original
    assert User.objects.filter(email="ann@example.com").exists()
