"""--sync: catching up with the old services before the cut-over (and --verify seeing drift)."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.contrib.auth import authenticate
from django.utils import timezone

from accounts.models import ApiKey, LoginSession, User
from legacy.engine import copy_legacy, verify_legacy
from legacy.models import Conflict
from tests.conftest import bcrypt_hash, sha256_hex
from tests.test_credentials_after_move import works

SOON = timezone.now() + timedelta(days=1)
LATER = timezone.now() + timedelta(days=30)


def problems():
    return {(p.source, p.problem) for p in verify_legacy(apps).verification.problems}


def sync():
    return copy_legacy(apps, sync=True)


def set_row(legacy, key, row_id, **values):
    columns = ", ".join(f"{name} = %s" for name in values)
    legacy.execute(
        f'UPDATE "{legacy.table(key)}" SET {columns} WHERE id = %s',
        [legacy._adapt(v) for v in values.values()] + [legacy._adapt(row_id)],
    )


def test_a_password_changed_in_the_old_service_is_drift_until_synced(legacy):
    uid = legacy.user("ann@example.com", "old-pw")
    copy_legacy(apps)
    set_row(legacy, "users", uid, password_hash=bcrypt_hash("new-pw"))

    assert ("users", "password_changed_in_legacy") in problems()
    assert copy_legacy(apps).tables["users"].synced == 0  # a plain run does not sync

    report = sync()

    assert report.tables["users"].synced >= 1
    assert authenticate(email="ann@example.com", password="new-pw") is not None
    assert authenticate(email="ann@example.com", password="old-pw") is None
    assert verify_legacy(apps).verification.ok
    assert sync().tables["users"].synced == 0  # nothing left to catch up


def test_a_password_changed_in_both_keeps_authcores_and_reports_it(legacy):
    uid = legacy.user("ann@example.com", "old-pw")
    copy_legacy(apps)
    user = User.objects.get()
    user.set_password("authcore-pw")
    user.save()
    set_row(legacy, "users", uid, password_hash=bcrypt_hash("legacy-pw"))

    report = sync()

    assert authenticate(email="ann@example.com", password="authcore-pw") is not None
    assert authenticate(email="ann@example.com", password="legacy-pw") is None
    assert Conflict.objects.filter(field="password", rule__contains="authcore change").exists()
    assert report.conflicts == 1  # counted in the run's report (and its --json)
    assert sync().conflicts == 0  # recorded once
    assert verify_legacy(apps).verification.ok


def test_deactivation_and_deletion_always_apply(legacy):
    ann = legacy.user("ann@example.com", "pw")
    bob = legacy.user("bob@example.com", "pw")
    copy_legacy(apps)
    set_row(legacy, "users", ann, is_active=False)
    legacy.allow_orphans("user_api_keys")
    legacy.execute(f'DELETE FROM "{legacy.table("users")}" WHERE id = %s', [bob])

    assert ("users", "active_but_inactive_in_legacy") in problems()
    assert ("users", "legacy_row_missing") in problems()
    sync()

    assert not User.objects.get(email="ann@example.com").is_active
    assert not User.objects.get(email="bob@example.com").is_active


def test_a_reactivation_is_reported_not_applied(legacy):
    uid = legacy.user("ann@example.com", "pw", is_active=False)
    copy_legacy(apps)
    set_row(legacy, "users", uid, is_active=True)

    sync()

    assert not User.objects.get().is_active
    assert Conflict.objects.filter(field="is_active", rule__contains="reactivated").exists()


def test_keys_revoked_deactivated_shortened_or_deleted_in_the_old_service(legacy):
    ann = legacy.user("ann@example.com", "pw")
    deactivated = legacy.api_key(ann, "deactivated")
    shortened = legacy.api_key(ann, "shortened", expires_at=LATER)
    deleted = legacy.api_key(ann, "deleted")
    kept = legacy.api_key(ann, "kept")
    shared = legacy.insert("user", email="sam@example.com")
    revoked = legacy.insert(
        "user_api_key", user_id=shared, prefix="p", key_hash=sha256_hex("revoked")
    )
    copy_legacy(apps)
    set_row(legacy, "user_api_keys", deactivated, is_active=False)
    set_row(legacy, "user_api_keys", shortened, expires_at=SOON)
    legacy.execute(f'DELETE FROM "{legacy.table("user_api_keys")}" WHERE id = %s', [deleted])
    set_row(legacy, "user_api_key", revoked, revoked_at=timezone.now())
    assert not verify_legacy(apps).verification.ok

    sync()

    key = {k.legacy_id: k for k in ApiKey.objects.all()}
    assert key[str(deactivated)].is_active is False
    assert key[str(shortened)].expires_at == SOON
    assert key[str(deleted)].revoked_at is not None and not key[str(deleted)].is_active
    assert key[str(revoked)].revoked_at is not None and not key[str(revoked)].is_active
    assert key[str(kept)].is_active and key[str(kept)].revoked_at is None
    assert verify_legacy(apps).verification.problem_counts == {
        "user_api_keys: legacy_row_missing": 1  # still reported: the row is gone
    }


def test_a_key_rotated_in_the_old_service_takes_its_new_digest(legacy):
    """The same legacy row, a new token: the new one works here, the old one no longer."""
    ann = legacy.user("ann@example.com", "pw")
    key = legacy.api_key(ann, "old-token")
    shared = legacy.insert("user", email="sam@example.com")
    session = legacy.insert(
        "user_session", user_id=shared, token_hash=sha256_hex("old-session"), expires_at=LATER
    )
    copy_legacy(apps)
    assert works("old-token")
    set_row(legacy, "user_api_keys", key, key_hash=sha256_hex("new-token").upper())
    set_row(legacy, "user_session", session, token_hash=sha256_hex("new-session"))
    assert {("user_api_keys", "digest_differs"), ("user_session", "digest_differs")} <= problems()

    report = sync()

    assert works("new-token") and not works("old-token")
    assert ApiKey.objects.get().is_active
    assert LoginSession.objects.get().token_digest == sha256_hex("new-session")
    assert report.tables["user_api_keys"].synced == 1
    assert verify_legacy(apps).verification.ok
    assert sync().tables["user_api_keys"].synced == 0  # nothing more to follow


def test_a_rotation_the_copy_cannot_follow_revokes_the_old_token(legacy):
    """A new digest that is no sha256 digest, is another key's, or is given to two rows
    at once: the copied key is revoked (fail closed) and --verify keeps reporting it."""
    ann = legacy.user("ann@example.com", "pw")
    invalid, taken, twin_a, twin_b = (
        legacy.api_key(ann, name) for name in ("invalid", "taken", "twin-a", "twin-b")
    )
    untouched = legacy.api_key(ann, "untouched")
    sam = legacy.insert("user", email="sam@example.com")
    legacy.insert("user_api_key", user_id=sam, prefix="o", key_hash=sha256_hex("other"))
    copy_legacy(apps)
    set_row(legacy, "user_api_keys", invalid, key_hash="not-a-digest")
    set_row(legacy, "user_api_keys", taken, key_hash=sha256_hex("other"))  # sam's key
    set_row(legacy, "user_api_keys", twin_a, key_hash=sha256_hex("twin"))
    set_row(legacy, "user_api_keys", twin_b, key_hash=sha256_hex("twin").upper())

    report = sync()

    for token in ("invalid", "taken", "twin-a", "twin-b", "twin"):
        assert not works(token), token
    assert works("other") and works("untouched")
    revoked = ApiKey.objects.filter(revoked_at__isnull=False, is_active=False)
    assert {k.legacy_id for k in revoked} == {str(i) for i in (invalid, taken, twin_a, twin_b)}
    assert str(untouched) not in {k.legacy_id for k in revoked}
    assert report.tables["user_api_keys"].synced == 4
    assert verify_legacy(apps).verification.problem_counts == {
        "user_api_keys: digest_differs": 4
    }


def test_sessions_revoked_in_the_old_service(legacy):
    shared = legacy.insert("user", email="sam@example.com")
    session = legacy.insert(
        "user_session", user_id=shared, token_hash=sha256_hex("s"), expires_at=LATER
    )
    copy_legacy(apps)
    set_row(legacy, "user_session", session, revoked_at=timezone.now())

    sync()

    assert LoginSession.objects.get().revoked_at is not None
    assert verify_legacy(apps).verification.ok


def test_tenant_deactivated_membership_removed_and_role_changed_in_the_old_service(legacy):
    from accounts.models import Membership, Tenant

    acme = legacy.insert("clients", name="Acme", slug="acme")
    globex = legacy.insert("clients", name="Globex", slug="globex")
    ann = legacy.user("ann@example.com", "pw", client_id=acme, role="owner")
    bob = legacy.user("bob@example.com", "pw", client_id=acme, role="member")
    legacy.user("cy@example.com", "pw", client_id=globex, role="member")
    copy_legacy(apps)
    assert Membership.objects.count() == 3
    set_row(legacy, "clients", globex, is_active=False)
    set_row(legacy, "users", bob, client_id=None)
    set_row(legacy, "users", ann, role="readonly")

    found = problems()
    assert ("clients", "active_but_inactive_in_legacy") in found
    assert ("clients", "membership_without_legacy") in found
    assert ("users", "role_changed_in_legacy") in found

    sync()

    assert not Tenant.objects.get(slug="globex").is_active
    assert set(Membership.objects.values_list("user__email", "tenant__slug", "role")) == {
        ("ann@example.com", "acme", "readonly"),
        ("cy@example.com", "globex", "member"),
    }
    assert verify_legacy(apps).verification.ok


def test_a_superuser_right_taken_away_in_the_old_service_is_taken_away(legacy):
    """Anything that removes access always applies; the right came from the winning row."""
    boss = legacy.insert("user", email="boss@example.com", is_superuser=True)
    legacy.insert("user", email="keeps@example.com", is_superuser=True)
    copy_legacy(apps)
    assert User.objects.get(email="boss@example.com").is_superuser
    set_row(legacy, "user", boss, is_superuser=False)

    assert ("user", "superuser_without_legacy_right") in problems()
    report = sync()

    assert not User.objects.get(email="boss@example.com").is_superuser
    assert User.objects.get(email="keeps@example.com").is_superuser
    assert report.tables["user"].synced == 1
    assert ("user", "superuser_without_legacy_right") not in problems()


def test_a_reset_in_the_old_service_after_a_login_here_is_followed(legacy):
    """Logging in re-hashes the copied password (the same password): not a change made in
    authcore, so a reset in the old service afterwards still syncs."""
    uid = legacy.user("ann@example.com", "old-pw")
    copy_legacy(apps)
    assert authenticate(email="ann@example.com", password="old-pw") is not None
    user = User.objects.get()
    assert not user.password.startswith("bcrypt")  # re-hashed with the default hasher
    assert (user.password_set_by, user.password_changed_at is not None) == ("rehash", True)
    set_row(legacy, "users", uid, password_hash=bcrypt_hash("reset-pw"))

    report = sync()

    assert report.conflicts == 0
    assert authenticate(email="ann@example.com", password="reset-pw") is not None
    assert authenticate(email="ann@example.com", password="old-pw") is None
    assert User.objects.get().password_set_by == "rehash"  # re-hashed at that login too
    assert verify_legacy(apps).verification.ok


def test_a_password_set_here_then_re_hashed_still_wins(legacy, settings):
    """A person's own password stays theirs even if a later login re-hashes it."""
    uid = legacy.user("ann@example.com", "old-pw")
    copy_legacy(apps)
    user = User.objects.get()
    user.set_password("authcore-pw")
    user.save()
    settings.PASSWORD_HASHERS = [  # the default moves on: the next login re-hashes
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]
    assert authenticate(email="ann@example.com", password="authcore-pw") is not None
    assert User.objects.get().password_set_by == "authcore"
    set_row(legacy, "users", uid, password_hash=bcrypt_hash("legacy-pw"))

    sync()

    assert authenticate(email="ann@example.com", password="authcore-pw") is not None
    assert Conflict.objects.filter(field="password", rule__contains="authcore change").exists()
