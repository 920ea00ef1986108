"""Planner statistics during a copy: refreshed as a table grows where that could change a
plan, once at the step's end where the step's units only write the table or look rows up
in it by index (legacy/engine/planner.py, ``grew``).

Each ANALYZE reads a sample of the table's pages; five per million keys were 1.5 s that no
statement of the step needed. Whatever the schedule, the statistics are fresh when the step
ends.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from legacy.engine import copy_legacy, planner

PEOPLE = 80


def planner_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        return cursor.fetchone()[0]


def positions(statements: list[str], prefix: str) -> list[int]:
    return [i for i, sql in enumerate(statements) if sql.startswith(prefix)]


@pytest.fixture
def copied_in_units(legacy_committed, settings, monkeypatch) -> list[str]:
    """Users and keys copied in units of ten, every doubling of a table worth an ANALYZE;
    the statements of the run, in order."""
    settings.LEGACY_COPY_CHUNK_ROWS = 10
    monkeypatch.setattr(planner, "ANALYZE_AFTER_ROWS", 1)
    legacy_committed.people_with_keys(PEOPLE)
    with CaptureQueriesContext(connection) as captured:
        copy_legacy(apps, sources=["auth_service"])
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "table", ['"accounts_user"', '"accounts_userorigin"', '"accounts_apikey"']
)
def test_a_table_the_units_only_write_or_look_up_is_analysed_when_its_step_ends(
    copied_in_units, table
):
    inserts = positions(copied_in_units, f"INSERT INTO {table}")
    analyses = positions(copied_in_units, f"ANALYZE {table}")
    assert len(inserts) == PEOPLE // 10
    # At most once while the step runs (a table without statistics gets them at once),
    # then after its last unit.
    assert len([a for a in analyses if a < inserts[-1]]) <= 1
    assert analyses[-1] > inserts[-1]
    assert planner_rows(table) == PEOPLE
