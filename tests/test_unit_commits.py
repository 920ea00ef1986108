"""A command's units commit without waiting for the disk; the run's record still waits.

legacy/engine/context.py (``Context.commit_without_waiting``) says why that loses nothing:
a unit lost in a server crash is done again by the next run, and the run's record, written
last with an ordinary commit, makes every unit before it durable.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from legacy.engine import copy_legacy

ASYNC = "SET LOCAL synchronous_commit = off"
PEOPLE = 30


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_each_unit_of_a_command_run_commits_without_waiting(legacy_committed, settings):
    settings.LEGACY_COPY_CHUNK_ROWS = 10
    legacy_committed.people_with_keys(PEOPLE)
    with CaptureQueriesContext(connection) as captured:
        report = copy_legacy(apps, sources=["auth_service"])
    statements = [query["sql"] for query in captured.captured_queries]
    # Users and keys in three units each, and the unit that makes the role groups.
    assert statements.count(ASYNC) >= 7
    # The run's record is written after the last unit, in a transaction of its own.
    last_unit = max(i for i, sql in enumerate(statements) if sql == ASYNC)
    assert any("legacy_copyrun" in sql for sql in statements[last_unit + 1 :])
    assert synchronous_commit() == "on"  # SET LOCAL ended with each unit's transaction
    assert report.table("users").copied == PEOPLE
    assert report.table("user_api_keys").copied == PEOPLE


@pytest.mark.postgres
def test_a_copy_inside_a_transaction_leaves_the_commit_to_it(legacy):
    """A migration's RunPython, a dry run: the outer transaction commits as it would."""
    legacy.people_with_keys(PEOPLE)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        report = copy_legacy(apps, sources=["auth_service"])
        assert synchronous_commit() == "on"
    assert ASYNC not in [query["sql"] for query in captured.captured_queries]
    assert report.table("users").copied == PEOPLE
