"""Configuration errors: one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from legacy.engine import copy_legacy
from legacy.tables import MissingLegacyTable

ROOT = Path(__file__).resolve().parent.parent


def command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "manage.py", "migrate_legacy_users", *args],
        cwd=ROOT,
        env={**base, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres@127.0.0.1:1/authcore",  # nothing listens there
        "postgres://no_such_role@127.0.0.1:5432/authcore",  # wrong credentials
        "postgres://postgres@127.0.0.1:5432/no_such_database",
    ],
)
def test_an_unusable_database_is_one_line_and_exit_3(url):
    result = command(DATABASE_URL=url)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("CommandError: database error:")


def test_an_invalid_table_name_is_one_line_and_exit_2():
    result = command(DATABASE_URL="sqlite:///:memory:", LEGACY_TABLE_USERS="users;drop")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "legacy.E001" in result.stderr


def test_a_configured_table_that_does_not_exist(legacy):
    model = apps.get_model("legacy", "AuthUser")
    original = model._meta.db_table
    model._meta.db_table = "auth_users_renamed"
    try:
        with pytest.raises(MissingLegacyTable, match="auth_users_renamed"):
            copy_legacy(apps)
    finally:
        model._meta.db_table = original


def test_migrate_stops_on_a_configured_table_that_does_not_exist(db, settings):
    settings.LEGACY_TABLES = {**settings.LEGACY_TABLES, "users": "auth_users_renamed"}
    with pytest.raises(SystemCheckError, match="legacy.E002"):
        call_command("check", databases=["default"])


def test_the_command_reports_a_missing_configured_table_in_one_line():
    result = command(DATABASE_URL="sqlite:///:memory:", LEGACY_TABLE_USERS="auth_users")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "auth_users" in result.stderr


@pytest.mark.parametrize("flag", [None, "--verify"])
def test_a_database_not_migrated_yet_says_to_run_migrate(tmp_path, flag):
    """Not the database's "no such table": what to do about it, in one line, exit 2."""
    url = f"sqlite:///{tmp_path / 'not-migrated.sqlite3'}"
    result = command(*([flag] if flag else []), DATABASE_URL=url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Run `manage.py migrate` first" in lines[0]
