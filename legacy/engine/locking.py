"""One copy at a time: a second run refuses (or waits) instead of interleaving.

PostgreSQL: a session-level advisory lock, which the old services never see (it locks
no table). SQLite allows one writer at a time anyway, so nothing is needed there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

from legacy.engine.sql import Dialect

# "authcore" as a 64-bit key, so other applications' advisory locks do not collide.
LOCK_KEY = int.from_bytes(b"authcore", "big") & 0x7FFF_FFFF_FFFF_FFFF


class CopyInProgress(RuntimeError):
    """Another copy of the legacy tables is running against this database."""


def _holder(connection: BaseDatabaseWrapper) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = %s AND objid = %s AND objsubid = 1",
            [LOCK_KEY >> 32, LOCK_KEY & 0xFFFF_FFFF],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@contextmanager
def exclusive_run(connection: BaseDatabaseWrapper, wait: bool = False) -> Iterator[None]:
    """Hold the copy lock for the duration of the block.

    Without ``wait`` a second run fails at once with CopyInProgress, naming the
    PostgreSQL backend that holds the lock; with ``wait`` it blocks until the lock is free.
    """
    if not Dialect(connection).has_advisory_locks:
        yield
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                holder = _holder(connection)
                raise CopyInProgress(
                    "another copy of the legacy tables is running"
                    + (f" (PostgreSQL backend pid {holder})" if holder else "")
                    + "; run again when it has finished, or pass --wait"
                )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
