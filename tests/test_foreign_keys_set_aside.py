"""A large step sets its tables' foreign keys aside and puts them back checked.

Per-row checks at commit were a quarter of a million-row copy; one check of the whole
table when the constraint comes back costs a tenth of that (legacy/engine/foreign_keys.py).
Whatever happens meanwhile, the constraints end up as they were, or visibly not validated.
"""

from __future__ import annotations

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from accounts.models import UserOrigin
from legacy.engine import copy_legacy, foreign_keys, verify_legacy
from legacy.models import Conflict, SuspendedForeignKey

ORIGIN_FK = "accounts_userorigin"
PEOPLE = 200


def foreign_keys_now() -> set[tuple[str, str, str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated"
            " FROM pg_constraint WHERE contype = 'f'"
            " AND connamespace = current_schema()::regnamespace"
        )
        return set(cursor.fetchall())


def key_in_place(table: str = ORIGIN_FK) -> bool:
    """Whether ``table``'s foreign keys are in place (its rows checked one by one)."""
    if connection.vendor != "postgresql":
        return True  # SQLite's foreign keys are part of the table: never set aside
    return any(name == table for name, *_ in foreign_keys_now())


class Watch:
    """A progress callback noting, between units, whether rows of ``key``'s table (the
    origins, unless told) are checked per row."""

    def __init__(
        self, fail_after: int | None = None, table: str = "users", key: str = ORIGIN_FK
    ) -> None:
        self.seen: list[bool] = []
        self.fail_after = fail_after
        self.table = table
        self.key = key

    def __call__(self, table: str, done: int, total: int) -> None:
        if table == self.table and done:
            self.seen.append(key_in_place(self.key))
            if self.fail_after is not None and len(self.seen) >= self.fail_after:
                raise RuntimeError("stopped by the test")


@pytest.fixture
def people(legacy_committed, settings):
    settings.LEGACY_COPY_CHUNK_ROWS = 50
    settings.LEGACY_COPY_SUSPEND_FK_ROWS = 100
    legacy_committed.people_with_keys(PEOPLE)
    return legacy_committed


def killed_run_state(table: str = ORIGIN_FK) -> tuple[str, str]:
    """What a run killed in a large step leaves: a constraint dropped, its record kept."""
    [(name, definition)] = [
        (n, d) for t, n, d, _ in foreign_keys_now() if t == table and "accounts_user" in d
    ]
    SuspendedForeignKey.objects.create(
        table_name=table, constraint_name=name, definition=definition,
        set_aside_at="2026-01-01T00:00:00Z",
    )
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return name, definition


@pytest.mark.postgres
def test_a_large_step_copies_without_per_row_checks_and_puts_them_back(people):
    before = foreign_keys_now()
    watch = Watch()
    report = copy_legacy(apps, progress=watch)
    assert watch.seen and not any(watch.seen)  # set aside for every unit of users
    assert foreign_keys_now() == before  # the same constraints, validated
    assert not SuspendedForeignKey.objects.exists()
    assert report.table("users").copied == PEOPLE and not report.notes
    assert verify_legacy(apps).verification.ok


@pytest.mark.postgres
def test_the_user_tables_own_key_is_set_aside_with_the_others(people):
    """Empty in every copied user, it still queued a check per inserted row."""
    watch = Watch(key="accounts_user")
    before = foreign_keys_now()
    copy_legacy(apps, sources=["auth_service"], progress=watch)
    assert watch.seen and not any(watch.seen)
    assert foreign_keys_now() == before


@pytest.mark.postgres
def test_a_merging_source_records_its_conflicts_with_the_keys_set_aside(people):
    copy_legacy(apps, sources=["auth_service"])
    for n in range(1, PEOPLE + 1):  # the same people in "user", each under another name
        people.insert("user", email=f"P{n}@example.com", username=f"other{n}")
    before = foreign_keys_now()
    watch = Watch(table="user")
    report = copy_legacy(apps, sources=["shared_models"], progress=watch)
    assert watch.seen and not any(watch.seen)
    assert report.table("user").merged == PEOPLE
    assert Conflict.objects.filter(field="username").count() == PEOPLE
    assert foreign_keys_now() == before
    assert not SuspendedForeignKey.objects.exists()
    assert verify_legacy(apps).verification.ok


@pytest.mark.postgres
def test_a_small_step_keeps_per_row_checks(people, settings):
    settings.LEGACY_COPY_SUSPEND_FK_ROWS = PEOPLE + 1
    watch = Watch()
    copy_legacy(apps, progress=watch)
    assert watch.seen and all(watch.seen)


@pytest.mark.postgres
def test_few_new_rows_into_a_large_table_keep_per_row_checks(people, settings):
    copy_legacy(apps)
    people.people_with_keys(PEOPLE // 20, first=PEOPLE + 1)  # under an eighth of the origins
    settings.LEGACY_COPY_SUSPEND_FK_ROWS = 1
    watch = Watch()
    copy_legacy(apps, progress=watch)
    assert watch.seen and all(watch.seen)
    assert UserOrigin.objects.count() == PEOPLE + PEOPLE // 20


@pytest.mark.postgres
def test_a_step_that_fails_puts_the_foreign_keys_back(people):
    before = foreign_keys_now()
    with pytest.raises(RuntimeError, match="stopped by the test"):
        copy_legacy(apps, progress=Watch(fail_after=1))
    assert foreign_keys_now() == before
    assert not SuspendedForeignKey.objects.exists()


@pytest.mark.postgres
def test_the_next_run_puts_back_what_a_killed_run_set_aside(people):
    before = foreign_keys_now()
    killed_run_state()
    problems = verify_legacy(apps).verification.problem_counts
    assert problems[f"{ORIGIN_FK}: foreign_key_not_validated"] == 1
    copy_legacy(apps)
    assert foreign_keys_now() == before
    assert not SuspendedForeignKey.objects.exists()


@pytest.mark.postgres
def test_rows_that_break_a_key_set_aside_are_named_and_checked_again(people):
    before = foreign_keys_now()
    copy_legacy(apps)
    name, _ = killed_run_state()
    with connection.cursor() as cursor:  # a user deleted by hand while its origin was copied
        cursor.execute(
            "UPDATE accounts_userorigin SET user_id = 987654"
            " WHERE id = (SELECT MIN(id) FROM accounts_userorigin)"
        )
    report = copy_legacy(apps)
    [note] = report.notes
    assert name in note and "987654" in note and "NOT VALID" in note
    assert (ORIGIN_FK, name) in {(t, n) for t, n, _, valid in foreign_keys_now() if not valid}
    assert not verify_legacy(apps).verification.ok  # visible until fixed
    UserOrigin.objects.filter(user_id=987654).delete()
    assert not copy_legacy(apps).notes
    assert foreign_keys_now() == before
    assert not SuspendedForeignKey.objects.exists()


@pytest.mark.postgres
def test_tables_someone_holds_keep_per_row_checks(people, monkeypatch):
    monkeypatch.setattr(foreign_keys, "LOCK_TIMEOUT", "100ms")
    s = connection.settings_dict
    other = psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"]
    )
    try:  # a long read of the origins: dropping a constraint would wait for it
        other.execute("BEGIN")
        other.execute("LOCK TABLE accounts_userorigin IN ACCESS SHARE MODE")
        watch = Watch()
        report = copy_legacy(apps, progress=watch)
    finally:
        other.close()
    assert watch.seen and all(watch.seen)
    assert report.table("users").copied == PEOPLE
    assert not SuspendedForeignKey.objects.exists()


def test_nothing_is_set_aside_on_sqlite_or_in_a_transaction(legacy, settings):
    settings.LEGACY_COPY_SUSPEND_FK_ROWS = 1
    legacy.people_with_keys(20)
    watch = Watch()
    copy_legacy(apps, progress=watch)  # in the test's transaction, as in a migration
    assert watch.seen and all(watch.seen)
    assert not SuspendedForeignKey.objects.exists()
