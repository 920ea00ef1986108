"""Retiring nats_user_credential: refused until verified, backed up, confirmed, restorable."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from legacy.engine import copy_legacy, verify_legacy
from natscreds import retire
from tests.test_nats_factory import NatsRows, tampered

TABLE = "nats_user_credential"


@pytest.fixture
def nats(legacy) -> NatsRows:
    return NatsRows(legacy)


@pytest.fixture
def copied(legacy, nats):
    """Two people, one with a rotated credential, sessions with and without credential_id."""
    ann, bob = legacy.user("ann@example.com"), legacy.user("bob@example.com")
    account = nats.account(signing=True)
    old = nats.credential(ann, account, created_at=datetime.now(tz=UTC) - timedelta(days=2))
    new = nats.credential(ann, account, signer=account.signing)
    bob_cred = nats.credential(bob, account, expires=None)
    nats.session(ann, credential_id=new.id, ip_address="192.0.2.7")
    nats.session(bob, account_id=account.id)
    copy_legacy(apps)
    return {"old": old, "new": new, "bob": bob_cred}


def table_exists(name: str = TABLE) -> bool:
    with connection.cursor() as cursor:
        return name in connection.introspection.table_names(cursor)


def drop(tmp_path: Path, *args: str, **options) -> str:
    out = StringIO()
    call_command(
        "drop_legacy_nats_credentials",
        *args,
        backup_dir=tmp_path,
        stdout=out,
        stderr=StringIO(),
        **options,
    )
    return out.getvalue()


def only_backup(tmp_path: Path) -> Path:
    (directory,) = tmp_path.iterdir()
    return directory


def test_drop_backs_up_then_drops_and_restore_brings_back_identical_rows(legacy, copied, tmp_path):
    before = legacy.snapshot(TABLE)

    out = drop(tmp_path, yes=True)

    assert not table_exists()
    backup = only_backup(tmp_path)
    assert f"manage.py restore_legacy_nats_credentials {backup}" in out
    rows = (backup / retire.ROWS).read_text().splitlines()
    assert len(rows) == len(before) == 3
    assert {json.loads(line)["id"] for line in rows} == {row[0] for row in before}
    sums = dict(
        reversed(line.split("  ")) for line in (backup / retire.SUMS).read_text().splitlines()
    )
    for name in (retire.ROWS, retire.MANIFEST, retire.SIGNATURE):
        assert sums[name] == hashlib.sha256((backup / name).read_bytes()).hexdigest()
        assert (backup / name).stat().st_mode & 0o077 == 0  # seed hashes: owner only
    # The users keep their credentials, and the engine copes with the retired table.
    assert User.objects.filter(nats_problems="").count() == 2
    report = copy_legacy(apps)
    assert any("retired" in note for note in report.notes)
    assert verify_legacy(apps).verification.ok

    out = StringIO()
    call_command("restore_legacy_nats_credentials", str(backup), stdout=out)

    assert "3 rows, identical to the backup" in out.getvalue()
    assert legacy.snapshot(TABLE) == before
    assert verify_legacy(apps).verification.ok


@pytest.mark.postgres
def test_restore_recreates_the_postgres_definition(legacy, copied, tmp_path):
    def catalog():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass OR confrelid = %s::regclass ORDER BY 1",
                [TABLE, TABLE],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT column_name, data_type, is_nullable, column_default"
                " FROM information_schema.columns WHERE table_name = %s ORDER BY 1",
                [TABLE],
            )
            columns = cursor.fetchall()
            cursor.execute(
                "SELECT grantee, privilege_type FROM information_schema.role_table_grants"
                " WHERE table_name = %s AND grantee = 'PUBLIC'",
                [TABLE],
            )
            return constraints, columns, cursor.fetchall()

    legacy.execute("CREATE INDEX nats_cred_user_idx ON nats_user_credential (user_id)")
    legacy.execute("GRANT SELECT ON nats_user_credential TO PUBLIC")  # the old service's
    before = catalog()
    drop(tmp_path, yes=True)
    out = StringIO()
    call_command("restore_legacy_nats_credentials", str(only_backup(tmp_path)), stdout=out)

    assert "grants restored on nats_user_credential: SELECT to PUBLIC" in out.getvalue()
    # Same columns, defaults, constraints (and the session table's foreign key into it),
    # and the grants the old services rely on.
    assert catalog() == before
    assert before[2] == [("PUBLIC", "SELECT")]
    assert any("REFERENCES nats_user_credential(id)" in d for _, d in before[0])
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
        assert "nats_cred_user_idx" in {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "INSERT INTO nats_user_credential (user_id, jwt, seed_hash, public_key,"
            " account_public_key) SELECT user_id, 'j', 's', 'UNEW', 'A' FROM"
            " nats_user_credential LIMIT 1 RETURNING id"
        )
        new_id = cursor.fetchone()[0]
    assert new_id > max(row[0] for row in legacy.snapshot(TABLE) if row[0] != new_id)


def test_drop_refuses_while_a_credential_is_flagged(legacy, nats, tmp_path):
    uid = legacy.user("ann@example.com")
    cred = nats.credential(uid, nats.account())
    legacy.execute(
        f"UPDATE {TABLE} SET jwt = %s WHERE id = %s", [tampered(cred.jwt, name="x"), cred.id]
    )
    copy_legacy(apps)
    assert verify_legacy(apps).verification.ok  # copied faithfully, but flagged

    err = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("drop_legacy_nats_credentials", yes=True, backup_dir=tmp_path, stderr=err)

    assert refused.value.returncode == 1
    assert f"nats_user_credential#{cred.id}: jwt_signature_invalid" in err.getvalue()
    assert table_exists() and not list(tmp_path.iterdir())


def test_drop_refuses_while_a_credential_reached_no_user(legacy, nats, tmp_path):
    uid = legacy.user("not an email")  # rejected, so its credential is rejected too
    cred = nats.credential(uid, nats.account())
    copy_legacy(apps)
    assert verify_legacy(apps).verification.ok  # every row accounted for

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("drop_legacy_nats_credentials", yes=True, backup_dir=tmp_path, stderr=err)

    assert f"nats_user_credential#{cred.id}: rejected (owner_rejected)" in err.getvalue()
    assert table_exists()


def test_drop_refuses_when_the_copy_does_not_verify(legacy, nats, tmp_path):
    uid = legacy.user("ann@example.com")
    nats.credential(uid, nats.account())
    copy_legacy(apps, sources=["auth_service"])  # the NATS copy never ran

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("drop_legacy_nats_credentials", yes=True, backup_dir=tmp_path, stderr=err)

    assert "not_copied" in err.getvalue()
    assert table_exists()


def test_drop_asks_first(legacy, copied, tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="not dropped"):
        drop(tmp_path)
    assert table_exists() and not list(tmp_path.iterdir())

    monkeypatch.setattr("builtins.input", lambda prompt: "drop")
    drop(tmp_path)
    assert not table_exists()


def test_drop_without_a_table(legacy, copied, tmp_path):
    drop(tmp_path, yes=True)
    with pytest.raises(CommandError, match="does not exist") as failed:
        drop(tmp_path / "again", yes=True)
    assert failed.value.returncode == 2


def test_restore_refuses_a_damaged_backup_or_an_existing_table(legacy, copied, tmp_path):
    drop(tmp_path, yes=True)
    backup = only_backup(tmp_path)
    rows = backup / retire.ROWS
    original = rows.read_bytes()
    rows.write_bytes(original.replace(b'"id": ', b'"id": 1', 1))

    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore_legacy_nats_credentials", str(backup), stdout=StringIO())
    assert not table_exists()

    rows.write_bytes(original)
    call_command("restore_legacy_nats_credentials", str(backup), stdout=StringIO())
    with pytest.raises(CommandError, match="exists"):
        call_command("restore_legacy_nats_credentials", str(backup), stdout=StringIO())


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path, db):
    with pytest.raises(CommandError, match="not a backup"):
        call_command("restore_legacy_nats_credentials", str(tmp_path), stdout=StringIO())
