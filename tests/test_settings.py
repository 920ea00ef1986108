"""Settings come from the environment; a missing SECRET_KEY is a clear start-up error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_secret_key_outside_debug_fails_clearly(tmp_path):
    result = run_manage("check", DEBUG="false", SECRET_KEY="", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_secret_key():
    result = run_manage("check", DEBUG="true", SECRET_KEY="", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr


def test_legacy_table_names_come_from_the_environment():
    code = "from django.conf import settings; print(settings.LEGACY_TABLES['users'])"
    result = run_manage(
        "shell", "-c", code, DEBUG="true", LEGACY_TABLE_USERS="auth_users",
        DATABASE_URL="sqlite:///:memory:",
    )
    assert result.stdout.strip().splitlines()[-1] == "auth_users", result.stderr


def test_invalid_legacy_table_name_is_a_system_check_error(settings):
    settings.LEGACY_TABLES = {**settings.LEGACY_TABLES, "users": 'users"; --'}
    with pytest.raises(SystemCheckError, match="legacy.E001"):
        call_command("check")
