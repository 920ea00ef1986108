"""migrate_legacy_users and NATS: --source nats, --debug per-row logging, --verify flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from tests.test_nats_factory import NatsRows, tampered


def run(*args, **options):
    out, err = StringIO(), StringIO()
    call_command("migrate_legacy_users", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def rows(legacy):
    nats = NatsRows(legacy)
    legacy.allow_orphans("nats_user_credential")
    ann, bob = legacy.user("ann@example.com"), legacy.user("bob@example.com")
    account = nats.account()
    old = nats.credential(ann, account, created_at=datetime.now(tz=UTC) - timedelta(days=1))
    new = nats.credential(ann, account)
    bad = nats.credential(bob, account)
    legacy.execute(
        "UPDATE nats_user_credential SET jwt = %s WHERE id = %s",
        [tampered(bad.jwt, name="x"), bad.id],
    )
    orphan = nats.credential(31337, account)
    with_credential = nats.session(ann, credential_id=new.id)
    without = nats.session(bob, account_id=account.id)
    return {
        "old": old.id,
        "new": new.id,
        "bad": bad.id,
        "orphan": orphan.id,
        "sessions": (with_credential, without),
    }


def test_help_lists_the_nats_source(db, capsys):
    with pytest.raises(SystemExit):
        call_command("migrate_legacy_users", "--help")
    out = capsys.readouterr().out
    assert "  nats " in out and "--debug" in out


def test_debug_logs_every_row_of_the_nats_step(rows):
    out, err = run("--debug")
    ann = User.objects.get(email="ann@example.com")

    assert all(line.startswith("legacy.engine.nats: ") for line in err.splitlines())
    owner = ann.origins.get().legacy_id
    assert f"nats_user_credential#{rows['new']} (owner users#{owner}) checked: ok" in err
    assert f"nats_user_credential#{rows['new']} (owner users#{owner}): carried by user" in err
    assert f"nats_user_credential#{rows['old']}" in err and "superseded by" in err
    assert f"nats_user_credential#{rows['bad']}" in err and "jwt_signature_invalid" in err
    assert f"nats_user_credential#{rows['orphan']}" in err and "rejected (owner_missing)" in err
    for session in rows["sessions"]:
        assert f"nats_auth_session#{session}" in err
    assert "no credential_id" in err
    assert "legacy.engine.nats" not in out


def test_without_debug_nothing_is_logged(rows):
    _, err = run()
    assert err == ""


def test_verify_lists_nats_flags_and_passes(rows):
    run()

    out, _ = run("--verify")

    assert "verification OK" in out
    assert "nats_user_credential 4 rows: 1 flagged" in out  # the orphan's JWT is fine
    assert f"nats flag nats_user_credential#{rows['bad']}: jwt_signature_invalid" in out


def test_verify_json_carries_the_flags(rows):
    run()
    out, _ = run("--verify", "--json")
    data = json.loads(out)
    assert data["verification"]["ok"] is True
    assert any("jwt_signature_invalid" in note for note in data["notes"])


def test_verify_fails_on_wrong_nats_data(rows):
    run()
    User.objects.filter(email="ann@example.com").update(nats_expired_at=None, nats_jwt="x")
    with pytest.raises(CommandError) as failed:
        run("--verify", "--source", "nats")
    assert failed.value.returncode == 1
