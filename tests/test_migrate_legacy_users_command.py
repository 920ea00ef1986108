"""manage.py migrate_legacy_users: output, options and exit codes."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from tests.conftest import sha256_hex


def run(*args, **options):
    out = StringIO()
    call_command("migrate_legacy_users", *args, stdout=out, **options)
    return out.getvalue()


def test_copy_prints_a_readable_table(legacy):
    legacy.user("ann@example.com", "pw")
    legacy.user("bad", "pw")

    out = run()

    assert "users" in out and "copied" in out and "rejected" in out
    assert "accounts_user" in out and "0 -> 1" in out


def test_json_report_is_one_document(legacy):
    ann = legacy.user("ann@example.com", "pw")
    legacy.api_key(ann, "tok")

    data = json.loads(run("--json"))

    assert data["tables"]["users"]["copied"] == 1
    assert data["tables"]["user_api_keys"]["copied"] == 1
    assert data["counts_after"]["accounts_user"] == 1


def test_verify_exit_code_is_1_on_problems(legacy):
    legacy.user("ann@example.com", "pw")
    run()
    User.objects.update(email="mallory@example.com")

    with pytest.raises(CommandError) as failure:
        run("--verify")

    assert failure.value.returncode == 1


def test_verify_lists_problem_rows(legacy):
    uid = legacy.user("ann@example.com", "pw")
    run()
    User.objects.update(email="mallory@example.com")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("migrate_legacy_users", "--verify", stdout=out)
    assert f"users#{uid}: email_differs" in out.getvalue()
    assert "verification FAILED" in out.getvalue()


def test_verify_passes_with_exit_0(legacy):
    legacy.user("ann@example.com", "pw")
    run()
    assert "verification OK" in run("--verify")


def test_dry_run_shows_census_and_writes_nothing(legacy):
    legacy.user("ann@example.com", "pw")
    legacy.user("bob@example.com", None)

    out = run("--dry-run")

    assert "dry run, nothing written" in out
    assert "password formats in users" in out and "bcrypt" in out
    assert User.objects.count() == 0


def test_unknown_source_is_a_usage_error(db):
    with pytest.raises(CommandError) as failure:
        run("--source", "nope")
    assert failure.value.returncode == 2
    assert "auth_service" in str(failure.value)


def test_help_lists_sources_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        call_command("migrate_legacy_users", "--help")
    text = capsys.readouterr().out
    assert "auth_service" in text and "exit codes" in text


def test_invalid_table_name_is_a_clear_error(db, settings):
    settings.LEGACY_TABLES = {**settings.LEGACY_TABLES, "users": "users; DROP TABLE x"}
    from django.apps import apps

    from legacy.engine import copy_legacy
    from legacy.tables import InvalidTableName

    # The live models keep their import-time name; the engine checks what it is given.
    model = apps.get_model("legacy", "AuthUser")
    original = model._meta.db_table
    model._meta.db_table = "users; DROP TABLE x"
    try:
        with pytest.raises(InvalidTableName):
            copy_legacy(apps)
        with pytest.raises(CommandError) as failure:
            run()
        assert failure.value.returncode == 2
        assert "not a valid SQL identifier" in str(failure.value)
    finally:
        model._meta.db_table = original


def test_verbose_output_lists_each_reported_row(legacy):
    legacy.user("ann@example.com", "pw")
    legacy.user("ANN@example.com", "pw2")
    bad = legacy.user("bad", "pw")

    out = run(verbosity=2)

    assert f"rejected: users#{bad} email_invalid" in out
    assert "conflict: user" in out and "password" in out


def test_output_never_contains_secrets(legacy):
    from tests.conftest import bcrypt_hash

    pw_hash = bcrypt_hash("pw")
    ann = legacy.user("ann@example.com", None, password_hash=pw_hash)
    legacy.user("ANN@example.com", None, password_hash=bcrypt_hash("pw2"))
    legacy.api_key(ann, "secret-token")
    out = run(verbosity=2) + run("--json") + run("--verify", verbosity=2) + run("--dry-run")
    for secret in (pw_hash, pw_hash[7:], sha256_hex("secret-token"), "secret-token"):
        assert secret not in out


def test_sync_through_the_command(legacy):
    from tests.conftest import bcrypt_hash

    uid = legacy.user("ann@example.com", "old")
    run()
    legacy.execute(
        f'UPDATE "{legacy.table("users")}" SET password_hash = %s WHERE id = %s',
        [bcrypt_hash("new"), uid],
    )
    out = run("--sync")
    assert "synced" in out
    assert "verification OK" in run("--verify")


def test_verify_with_sync_is_a_usage_error(db):
    with pytest.raises(CommandError) as failure:
        run("--verify", "--sync")
    assert failure.value.returncode == 2


@pytest.mark.postgres
def test_a_running_copy_makes_the_second_exit_4(legacy):
    from legacy.engine.locking import LOCK_KEY
    from tests.test_reliability import second_connection

    with second_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        with pytest.raises(CommandError) as failure:
            run()
    assert failure.value.returncode == 4
    assert "another copy" in str(failure.value)
