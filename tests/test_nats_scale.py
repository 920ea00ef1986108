"""The NATS check results are written set-based: the statements that write them do not
grow with the number of rows checked, and the results are the same."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from legacy.engine import copy_legacy
from legacy.engine.nats import checks as nats
from legacy.models import RowIssue
from tests.test_nats_factory import Keys, NatsRows, tampered, user_jwt

CREDENTIALS = "nats_user_credential"


@pytest.fixture
def rows(legacy) -> NatsRows:
    return NatsRows(legacy)


@pytest.fixture(autouse=True)
def small_flushes(monkeypatch):
    """Results reach the temporary tables in many small appends."""
    monkeypatch.setattr(nats, "FLUSH_ROWS", 3)


def copy_nats() -> list[str]:
    """Copy the NATS source; return the statements it ran."""
    with CaptureQueriesContext(connection) as queries:
        copy_legacy(apps, sources=["nats"])
    return [q["sql"] for q in queries.captured_queries]


def writes(statements: list[str]) -> dict[str, int]:
    """How many statements wrote check results to the user table and the issues."""
    user, issue = (connection.ops.quote_name(t) for t in ("accounts_user", "legacy_rowissue"))
    return {
        "users": sum(s.startswith(f"UPDATE {user} SET nats_problems =") for s in statements),
        "forget": sum(
            s.startswith(f"DELETE FROM {issue}") and "nats_found" in s for s in statements
        ),
        "record": sum(
            s.startswith(f"INSERT INTO {issue}") and "nats_found" in s for s in statements
        ),
    }


def flags(source: str = CREDENTIALS) -> set[tuple[str, str, str]]:
    return set(RowIssue.objects.filter(source=source).values_list("legacy_id", "kind", "reason"))


def problems() -> dict[str, str | None]:
    return dict(User.objects.values_list("email", "nats_problems"))


def test_check_results_are_written_once_however_many_rows(legacy, rows):
    legacy.allow_orphans(CREDENTIALS)
    table = legacy.table(CREDENTIALS)
    account = rows.account()
    expected_users, expected_flags = {}, set()
    for n in range(10):
        email = f"u{n}@example.com"
        cred = rows.credential(legacy.user(email, password=None), account)
        jwt, codes = {
            0: (cred.jwt, ""),
            1: (tampered(cred.jwt, name="changed"), "jwt_signature_invalid"),
            2: (user_jwt(Keys.user().public_key, account.keys), "jwt_subject_mismatch"),
        }[n % 3]
        legacy.execute(f"UPDATE {table} SET jwt = %s WHERE id = %s", [jwt, cred.id])
        expected_users[email] = codes
        if codes:
            expected_flags.add((str(cred.id), "warning", codes))
    # An owner that was never copied: rejected, and checked again on every run.
    orphan = rows.credential(987654, account, jwt="not-a-jwt")
    expected_flags |= {
        (str(orphan.id), "rejected", "owner_missing"),
        (str(orphan.id), "warning", "jwt_malformed"),
    }
    copy_legacy(apps, sources=["auth_service"])

    statements = copy_nats()

    assert problems() == expected_users
    assert flags() == expected_flags
    # The new account is checked too (it passes: nothing to record).
    assert writes(statements) == {"users": 1, "forget": 2, "record": 1}

    # Again: nothing changes; only the orphan is checked again.
    statements = copy_nats()
    assert problems() == expected_users
    assert flags() == expected_flags
    assert writes(statements) == {"users": 1, "forget": 1, "record": 1}

    # The orphan's JWT now names another key: the stale flag goes, the new one comes,
    # the rejection stays.
    other = user_jwt(Keys.user().public_key, account.keys)
    legacy.execute(f"UPDATE {table} SET jwt = %s WHERE id = %s", [other, orphan.id])
    copy_nats()
    expected_flags.remove((str(orphan.id), "warning", "jwt_malformed"))
    expected_flags.add((str(orphan.id), "warning", "jwt_subject_mismatch"))
    assert flags() == expected_flags
    assert problems() == expected_users


def test_a_user_whose_flags_were_cleared_is_checked_again(legacy, rows):
    account = rows.account()
    ann, bob = legacy.user("ann@example.com"), legacy.user("bob@example.com")
    good = rows.credential(ann, account)
    bad = rows.credential(bob, account, jwt=tampered(user_jwt("UX", account.keys), name="x"))
    copy_legacy(apps, sources=["auth_service"])
    copy_nats()
    before = flags()
    assert problems() == {
        "ann@example.com": "",
        "bob@example.com": "jwt_subject_mismatch,jwt_signature_invalid",
    }

    # A changed winner is recorded with nats_problems NULL: only those rows are re-checked.
    table = legacy.table(CREDENTIALS)
    legacy.execute(f"UPDATE {table} SET jwt = 'broken' WHERE id = %s", [good.id])
    legacy.execute(f"UPDATE {table} SET jwt = %s WHERE id = %s", [good.jwt, bad.id])
    User.objects.filter(email="ann@example.com").update(nats_problems=None)
    copy_nats()

    assert problems() == {
        "ann@example.com": "jwt_malformed",
        "bob@example.com": "jwt_subject_mismatch,jwt_signature_invalid",
    }
    assert flags() == before | {(str(good.id), "warning", "jwt_malformed")}

    User.objects.update(nats_problems=None)
    copy_nats()
    # bob's row now carries ann's JWT: the subject differs, the signature holds.
    assert problems() == {
        "ann@example.com": "jwt_malformed",
        "bob@example.com": "jwt_subject_mismatch",
    }
    assert (str(bad.id), "warning", "jwt_signature_invalid") not in flags()


def test_no_temporary_tables_are_left(legacy, rows):
    uid = legacy.user("ann@example.com")
    rows.credential(uid, rows.account())
    copy_legacy(apps, sources=["auth_service"])
    copy_nats()
    if connection.vendor == "postgresql":
        sql = "SELECT relname FROM pg_class WHERE relpersistence = 't' AND relname LIKE %s"
    else:
        sql = "SELECT name FROM sqlite_temp_master WHERE name LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, ["authcore_stage_nats%"])
        assert cursor.fetchall() == []
