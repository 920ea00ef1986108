"""A copy killed hard (SIGKILL) at any moment loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Exists, OuterRef

from accounts.models import ApiKey, User, UserOrigin
from legacy.engine import verify_legacy

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 20_000


def fill(legacy) -> None:
    """PEOPLE users (every 50th a case-duplicate of the one before) with a key each."""
    legacy.execute(
        f"INSERT INTO {legacy.table('users')} (email, password_hash, role)"
        " SELECT CASE WHEN g %% 50 = 0 THEN 'U' || (g - 1) || '@Example.com'"
        " ELSE 'u' || g || '@example.com' END,"
        " '$2b$04$' || substr(md5(g::text) || md5((g + 1)::text), 1, 53),"
        " CASE WHEN g %% 7 = 0 THEN 'admin' ELSE 'member' END"
        " FROM generate_series(1, %s) g",
        [PEOPLE],
    )
    legacy.execute(
        f"INSERT INTO {legacy.table('user_api_keys')} (user_id, name, key_prefix, key_hash)"
        " SELECT g, 'k', 'prefix00', encode(sha256(g::text::bytea), 'hex')"
        " FROM generate_series(1, %s) g",
        [PEOPLE],
    )


def command(*args: str) -> subprocess.Popen[str]:
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DEBUG": "true",
        "DATABASE_URL": url,
        "LEGACY_COPY_CHUNK_ROWS": "1000",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "migrate_legacy_users",
            "--wait",
            "--source",
            "auth_service",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_consistent() -> None:
    """Whatever a killed run left: every user it made carries its winning row as an
    origin, and every key sits on a user (one unit commits them together)."""
    winners = UserOrigin.objects.filter(
        user=OuterRef("pk"), source=OuterRef("legacy_source"), legacy_id=OuterRef("legacy_id")
    )
    assert not User.objects.exclude(legacy_source=None).filter(~Exists(winners)).exists()
    assert UserOrigin.objects.count() <= PEOPLE
    assert ApiKey.objects.count() <= PEOPLE


def test_killed_at_any_point_then_resumed(legacy_committed):
    fill(legacy_committed)
    seen: list[tuple[int, int]] = []
    # Kill later and later, until a run gets to finish: before, during and after the copy
    # of users and of keys, whatever this machine's speed.
    delay = 0.5
    for _ in range(20):
        process = command()
        time.sleep(delay)
        if process.poll() is not None:
            break
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        assert_consistent()
        seen.append((UserOrigin.objects.count(), ApiKey.objects.count()))
        delay += 0.3
    print("origins and keys after each kill:", seen)
    assert any(0 < n < PEOPLE for pair in seen for n in pair), "no kill landed mid-copy"

    finished = command()
    assert finished.wait(timeout=600) == 0, finished.stderr.read()

    assert UserOrigin.objects.filter(source="users").count() == PEOPLE
    assert User.objects.count() == PEOPLE - PEOPLE // 50
    assert ApiKey.objects.count() == PEOPLE
    assert verify_legacy(apps, sources=["auth_service"]).verification.ok
