"""Running against a live database: one run at a time, and no lock the old services feel."""

from __future__ import annotations

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from accounts.models import User
from legacy.engine import CopyInProgress, copy_legacy
from legacy.engine.context import Context
from legacy.engine.locking import LOCK_KEY

pytestmark = pytest.mark.postgres


def second_connection() -> psycopg.Connection:
    """Another client of the same database, as the old service would be."""
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        dbname=s["NAME"],
        autocommit=True,
    )


def test_a_second_run_refuses_with_a_clear_message(legacy):
    legacy.user("ann@example.com", "pw")
    with second_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        pid = other.info.backend_pid
        with pytest.raises(CopyInProgress, match=f"pid {pid}"):
            copy_legacy(apps)
        assert User.objects.count() == 0
        other.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    copy_legacy(apps)
    assert User.objects.count() == 1


def test_the_lock_is_released_after_a_run(legacy):
    copy_legacy(apps)
    with second_connection() as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]


def test_the_copy_never_blocks_the_old_service(legacy_committed, monkeypatch):
    """Mid-copy, the copy holds only ACCESS SHARE on legacy tables, and the old service
    can still read and write them (a blocked write would hit the lock timeout)."""
    legacy = legacy_committed
    legacy.user("ann@example.com", "pw")
    seen: list[set[str]] = []
    original = Context.execute

    def execute_and_look(self, sql, params):
        count = original(self, sql, params)
        if not seen and "INSERT INTO" in sql:
            with second_connection() as other:
                other.execute("SET lock_timeout = '2s'")
                modes = other.execute(
                    "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " WHERE l.pid = %s AND c.relname = ANY(%s)",
                    [connection.connection.info.backend_pid, ["users", "user_api_keys"]],
                ).fetchall()
                seen.append({mode for (mode,) in modes})
                other.execute("SELECT count(*) FROM users").fetchone()
                other.execute(
                    "INSERT INTO users (email, password_hash) VALUES ('live@example.com', '')"
                )
        return count

    monkeypatch.setattr(Context, "execute", execute_and_look)
    copy_legacy(apps)
    monkeypatch.undo()

    assert seen and seen[0] <= {"AccessShareLock"}
    # The row the old service wrote mid-run is copied by this run or the next.
    copy_legacy(apps)
    assert User.objects.filter(email="live@example.com").exists()
