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
        "shell",
        "-c",
        code,
        DEBUG="true",
        LEGACY_TABLE_USERS="auth_users",
        DATABASE_URL="sqlite:///:memory:",
    )
    assert result.stdout.strip().splitlines()[-1] == "auth_users", result.stderr


def test_invalid_legacy_table_name_is_a_system_check_error(settings):
    settings.LEGACY_TABLES = {**settings.LEGACY_TABLES, "users": 'users"; --'}
    with pytest.raises(SystemCheckError, match="legacy.E001"):
        call_command("check")


# --- secret keys -------------------------------------------------------------------------

OLD_DEBUG_KEY = "insecure-debug-only-key-do-not-use-in-production"
STRONG_KEY = "k" + "x1y2z3w4v5" * 6  # 61 characters, 11 different ones
SHOW_KEYS = (
    "from django.conf import settings as s; print(s.SECRET_KEY); print(s.SIMPLE_JWT['SIGNING_KEY'])"
)
# What an attacker does to a DEBUG host: sign an access token for user 1 with a key
# written down somewhere, and hand it to the API's own token check.
FORGE = f"""
import jwt
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken
forged = jwt.encode(
    {{"token_type": "access", "exp": 4102444800, "jti": "x", "user_id": "1"}},
    {OLD_DEBUG_KEY!r}, algorithm="HS256",
)
try:
    AccessToken(forged)
    print("accepted")
except TokenError:
    print("refused")
"""


def last_lines(result: subprocess.CompletedProcess[str], count: int) -> list[str]:
    return result.stdout.strip().splitlines()[-count:]


def test_debug_without_secret_key_makes_a_random_one_per_start():
    runs = [
        run_manage(
            "shell", "-c", SHOW_KEYS, DEBUG="true", SECRET_KEY="", DATABASE_URL="sqlite:///:memory:"
        )
        for _ in range(2)
    ]
    (first_key, first_jwt), (second_key, second_jwt) = (last_lines(r, 2) for r in runs)
    assert first_key != second_key
    assert OLD_DEBUG_KEY not in (first_key, second_key)
    assert len(first_key) >= 50
    assert (first_jwt, second_jwt) == (first_key, second_key)


def test_a_token_signed_with_the_old_debug_key_is_refused():
    result = run_manage(
        "shell", "-c", FORGE, DEBUG="true", SECRET_KEY="", DATABASE_URL="sqlite:///:memory:"
    )
    assert last_lines(result, 1) == ["refused"], result.stderr


def test_a_random_secret_key_is_a_warning():
    result = run_manage("check", DEBUG="true", SECRET_KEY="", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr
    assert "authcore.W001" in result.stderr


def test_jwt_signing_key_is_its_own_setting():
    result = run_manage(
        "shell",
        "-c",
        SHOW_KEYS,
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        JWT_SIGNING_KEY="j" + STRONG_KEY,
        DATABASE_URL="sqlite:///:memory:",
    )
    assert last_lines(result, 2) == [STRONG_KEY, "j" + STRONG_KEY], result.stderr


# --- production settings: Django's deployment checklist ------------------------------------

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "auth.example.com",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "DATABASE_URL": "sqlite:///:memory:",
}


def test_check_deploy_passes_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "check"),
    [
        ("SECURE_SSL_REDIRECT", "false", "security.W008"),
        ("SESSION_COOKIE_SECURE", "false", "security.W012"),
        ("SECURE_HSTS_SECONDS", "0", "security.W004"),
        ("JWT_SIGNING_KEY", "short", "authcore.W002"),
    ],
)
def test_check_deploy_fails_when_a_production_setting_is_weakened(variable, value, check):
    env = {**PRODUCTION, variable: value}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert check in result.stderr


def test_outside_debug_the_site_is_https_only_by_default():
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.SECURE_PROXY_SSL_HEADER)"
    )
    plain = run_manage(
        "shell", "-c", code, DEBUG="false", SECRET_KEY=STRONG_KEY, DATABASE_URL="sqlite:///:memory:"
    )
    assert last_lines(plain, 1) == ["True True True True None"], plain.stderr
    proxied = run_manage("shell", "-c", code, **PRODUCTION)
    assert last_lines(proxied, 1) == ["True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"], (
        proxied.stderr
    )


# --- the shared cache --------------------------------------------------------------------

SHOW_CACHE = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'])"


def test_the_cache_is_redis_when_redis_url_is_set():
    result = run_manage(
        "shell",
        "-c",
        SHOW_CACHE,
        DEBUG="true",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DATABASE_URL="sqlite:///:memory:",
    )
    assert last_lines(result, 1) == ["django.core.cache.backends.redis.RedisCache"]


def test_the_cache_is_the_database_without_redis_url():
    result = run_manage(
        "shell", "-c", SHOW_CACHE, DEBUG="true", REDIS_URL="", DATABASE_URL="sqlite:///:memory:"
    )
    assert last_lines(result, 1) == ["django.core.cache.backends.db.DatabaseCache"]


def test_migrate_makes_the_database_cache_table(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    env = {"DEBUG": "true", "REDIS_URL": "", "DATABASE_URL": f"sqlite:///{database}"}
    migrated = run_manage("migrate", "--verbosity", "0", **env)
    assert migrated.returncode == 0, migrated.stderr
    code = (
        "from django.db import connection; "
        "print('authcore_cache' in connection.introspection.table_names())"
    )
    assert last_lines(run_manage("shell", "-c", code, **env), 1) == ["True"]
