"""The auth service's users and user_api_keys, copied by the engine (source 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import ApiKey, User, UserOrigin
from legacy.engine import copy_legacy, reverse_legacy, verify_legacy
from legacy.engine.people import RIGHTS_RULE as RIGHTS
from legacy.models import Conflict, CopyRun, RowIssue
from tests.conftest import bcrypt_hash, sha256_hex


def copy(**kwargs):
    return copy_legacy(apps, **kwargs)


def consolidated_state():
    """Everything the copy writes, by natural keys (ids differ after a reverse)."""
    return {
        "users": sorted(
            User.objects.values_list(
                "email", "password", "username", "full_name", "is_active", "is_superuser",
                "legacy_source", "legacy_id",
            )
        ),
        "origins": sorted(UserOrigin.objects.values_list("user__email", "source", "legacy_id")),
        "keys": sorted(
            ApiKey.objects.values_list(
                "user__email", "digest", "prefix", "is_active", "expires_at", "legacy_id"
            )
        ),
        "groups": sorted(User.groups.through.objects.values_list("user__email", "group__name")),
        "issues": sorted(RowIssue.objects.values_list("source", "legacy_id", "kind", "reason")),
        "conflicts": sorted(Conflict.objects.values_list("user__email", "field", "legacy_id")),
    }


def test_no_legacy_tables_is_a_successful_no_op(db):
    report = copy()
    assert "no legacy tables found: nothing to copy" in report.notes
    assert User.objects.count() == 0


def test_copies_users_and_keys_with_counts(legacy):
    ann = legacy.user("ann@example.com", "ann-pw", full_name="Ann", username="ann", role="member")
    bob = legacy.user("bob@example.com", "bob-pw")
    legacy.api_key(ann, "ann-token", scopes="read,write")
    legacy.api_key(bob, "bob-token", is_active=False)

    report = copy()

    assert report.tables["users"].copied == 2
    assert report.tables["user_api_keys"].copied == 2
    assert report.counts_before["accounts_user"] == 0
    assert report.counts_after["accounts_user"] == 2
    assert report.counts_after["users"] == 2
    user = User.objects.get(email="ann@example.com")
    assert (user.username, user.full_name, user.is_staff) == ("ann", "Ann", False)
    assert (user.legacy_source, user.legacy_id) == ("users", str(ann))
    key = ApiKey.objects.get(user=user)
    assert key.digest == sha256_hex("ann-token")
    assert key.scopes == "read,write"
    assert ApiKey.objects.get(digest=sha256_hex("bob-token")).is_active is False
    assert CopyRun.objects.get(pk=report.run_id).outcome == "succeeded"


def test_legacy_tables_are_never_modified(legacy):
    ann = legacy.user("ann@example.com", "pw", role=" Admin ")
    legacy.user("ANN@example.com ", "pw2")
    legacy.user("bad email", "pw")
    legacy.api_key(ann, "t1")
    legacy.allow_orphans("user_api_keys")
    legacy.api_key(4242, "orphan")
    before = legacy.snapshot_all()

    copy()
    copy()
    verify_legacy(apps)

    assert legacy.snapshot_all() == before


def test_second_run_copies_nothing_and_changes_nothing(legacy):
    ann = legacy.user("ann@example.com", "pw", role="member")
    legacy.user(" Ann@Example.com", "other")
    legacy.user("not-an-email", "pw")
    legacy.api_key(ann, "t1")
    legacy.allow_orphans("user_api_keys")
    legacy.api_key(999, "orphan")
    copy()
    state = consolidated_state()

    report = copy()

    assert consolidated_state() == state
    assert report.tables["users"].copied == report.tables["users"].merged == 0
    assert report.tables["user_api_keys"].copied == 0
    assert report.tables["users"].already_done == 2
    assert report.conflicts == 0


def test_rows_added_later_are_copied_by_the_next_run(legacy):
    ann = legacy.user("ann@example.com", "pw")
    copy()
    legacy.api_key(ann, "new-token")
    legacy.user("zoe@example.com", "pw")

    report = copy()

    assert report.tables["users"].copied == 1
    assert report.tables["user_api_keys"].copied == 1
    assert User.objects.filter(email="zoe@example.com").exists()


def test_email_case_and_blanks_make_one_person_with_both_keys(legacy):
    first = legacy.user("ann@example.com", "first-pw", full_name="Ann")
    second = legacy.user("  ANN@Example.com\t", "second-pw", full_name="Ann B", is_active=True)
    legacy.api_key(first, "token-1")
    legacy.api_key(second, "token-2")

    report = copy()

    user = User.objects.get()
    assert user.legacy_id == str(first)  # the lowest id wins within the table
    assert report.tables["users"].copied == 1
    assert report.tables["users"].merged == 1
    assert set(user.api_keys.values_list("digest", flat=True)) == {
        sha256_hex("token-1"),
        sha256_hex("token-2"),
    }
    assert set(user.origins.values_list("legacy_id", flat=True)) == {str(first), str(second)}
    fields = set(Conflict.objects.filter(user=user).values_list("field", flat=True))
    assert fields == {"password", "full_name"}
    password_conflict = Conflict.objects.get(field="password")
    assert password_conflict.kept_value is None and password_conflict.other_value is None
    assert authenticate(email="ann@example.com", password="first-pw") == user
    assert authenticate(email="ann@example.com", password="second-pw") is None


def test_each_disagreeing_field_is_one_conflict_with_both_values_and_its_rule(legacy):
    """Across two units: the merged row is compared with the user made in the first."""
    winner = legacy.user("ann@example.com", "pw-1", full_name="Ann", is_active=True)
    merged = legacy.user("ANN@example.com", "pw-2", full_name="Annie", is_active=False)

    with override_settings(LEGACY_COPY_CHUNK_ROWS=1):
        copy()

    user = User.objects.get()
    rows = {
        c.field: (c.kept_value, c.other_value, c.winner_legacy_id, c.legacy_id, c.rule)
        for c in Conflict.objects.filter(user=user)
    }
    assert set(rows) == {"password", "full_name", "is_active"}
    assert rows["password"][:4] == (None, None, str(winner), str(merged))
    assert rows["full_name"][:2] == ("Ann", "Annie")
    assert rows["is_active"][:2] == ("false", "false")
    assert "fail closed" in rows["is_active"][4]
    assert "no longer works" in rows["password"][4]
    assert user.is_active is False


def test_a_sign_up_between_staging_and_copy_still_fails_closed(legacy):
    """Staging believed the row would create its user; a sign-up in authcore took the
    address first. The unit notices (fewer users created than staged) and compares every
    row: the inactive legacy row still deactivates the person and is a conflict."""
    legacy.user("ann@example.com", "pw", is_active=False)

    def sign_up_when_users_start(table: str, done: int, total: int) -> None:
        if table == "users" and done == 0:
            User.objects.create_user(email="Ann@example.com", password="signed-up")

    report = copy(progress=sign_up_when_users_start)

    user = User.objects.get()
    assert user.legacy_source in ("", None) and user.is_active is False
    assert report.tables["users"].copied == 0 and report.tables["users"].merged == 1
    assert Conflict.objects.filter(user=user, field="is_active").exists()


@pytest.mark.parametrize("change", ["deleted", "readdressed"])
def test_a_user_gone_between_staging_and_copy_is_made_again(legacy, change):
    """Staging saw Ann's user, so her new row would merge into it. Before the unit runs
    an admin deletes that user, or gives it another address: the unit notices, and the
    new row makes a user of its own, with its role, instead of being left without one."""
    legacy.user("ann@example.com", "pw")
    copy()
    second = legacy.user("ANN@example.com", "pw", role="admin")

    def change_ann_when_users_start(table: str, done: int, total: int) -> None:
        if table == "users" and done == 0:
            ann = User.objects.get(email="ann@example.com")
            if change == "deleted":
                ann.delete()
            else:
                ann.email = "ann.elsewhere@example.com"
                ann.save()

    report = copy(progress=change_ann_when_users_start)

    made = User.objects.get(email="ANN@example.com")
    assert made.legacy_id == str(second)
    assert [g.name for g in made.groups.all()] == ["admin"]
    assert not Conflict.objects.filter(field="role").exists()
    assert UserOrigin.objects.get(source="users", legacy_id=str(second)).user == made
    assert report.tables["users"].copied == 1


def test_a_sign_up_between_staging_and_copy_does_not_get_the_legacy_role(legacy):
    """The legacy row's role goes to the user that row created, never to a stranger who
    signed up under the same address while the copy ran. Each row is still an origin of
    the user that has its address, once."""
    ann_row = legacy.user("ann@example.com", "pw", role="admin")
    bob_row = legacy.user("bob@example.com", "pw", role="admin")

    def sign_up_when_users_start(table: str, done: int, total: int) -> None:
        if table == "users" and done == 0:
            User.objects.create_user(email="Ann@example.com", password="signed-up")

    report = copy(progress=sign_up_when_users_start)

    ann = User.objects.get(email="Ann@example.com")
    assert list(ann.groups.all()) == []
    bob = User.objects.get(email="bob@example.com")
    assert [g.name for g in bob.groups.all()] == ["admin"]
    origins = dict(UserOrigin.objects.values_list("legacy_id", "user"))
    assert origins == {str(ann_row): ann.pk, str(bob_row): bob.pk}
    assert (report.tables["users"].copied, report.tables["users"].merged) == (1, 1)


def test_inactive_in_any_row_means_inactive(legacy):
    legacy.user("ann@example.com", "pw", is_active=True)
    legacy.user("ANN@example.com", "pw", is_active=False)

    copy()

    assert User.objects.get().is_active is False
    conflict = Conflict.objects.get(field="is_active")
    assert conflict.kept_value == "false"


def test_bcrypt_password_logs_in_after_the_move(legacy):
    legacy.user("ann@example.com", "correct horse", password_hash=bcrypt_hash("correct horse"))
    legacy.user("yves@example.com", None, password_hash=bcrypt_hash("y-pass", prefix=b"2a"))

    copy()

    user = authenticate(email="  Ann@EXAMPLE.com ", password="correct horse")
    assert user is not None and user.email == "ann@example.com"
    assert authenticate(email="ann@example.com", password="wrong") is None
    assert authenticate(email="yves@example.com", password="y-pass") is not None


@pytest.mark.parametrize(
    "stored, reason",
    [("", "password_unusable"), (None, "password_unusable"), ("md5$x$y", "password_unusable")],
)
def test_empty_or_unknown_hashes_become_unusable_and_are_reported(legacy, stored, reason):
    if stored is None and legacy.vendor == "postgresql":  # some deployments made it nullable
        legacy.execute(
            f"ALTER TABLE {legacy.table('users')} ALTER COLUMN password_hash DROP NOT NULL"
        )
    uid = legacy.user("ann@example.com", None, password_hash=stored)

    copy()

    user = User.objects.get()
    assert not user.has_usable_password()
    assert authenticate(email="ann@example.com", password="") is None
    issue = RowIssue.objects.get(source="users", legacy_id=str(uid))
    assert (issue.kind, issue.reason) == ("warning", reason)


def test_bad_rows_are_reported_never_dropped(legacy):
    good = legacy.user("ann@example.com", "pw")
    empty = legacy.user("   ", "pw")
    invalid = legacy.user("no-at-sign.example.com", "pw")
    too_long = legacy.user("a" * 243 + "@example.com", "pw")  # 255 > 254
    legacy.allow_orphans("user_api_keys")
    orphan = legacy.api_key(777, "orphan-token")
    of_rejected = legacy.api_key(invalid, "rejected-owner-token")
    bad_digest = legacy.insert("user_api_keys", user_id=good, key_prefix="x", key_hash="z" * 64)
    upper = legacy.insert(
        "user_api_keys", user_id=good, key_prefix="x", key_hash=sha256_hex("dup").upper()
    )
    lower = legacy.api_key(good, "dup")

    report = copy()

    rejected = RowIssue.objects.filter(kind="rejected")
    users = dict(rejected.filter(source="users").values_list("legacy_id", "reason"))
    keys = dict(rejected.filter(source="user_api_keys").values_list("legacy_id", "reason"))
    assert users == {
        str(empty): "email_empty",
        str(invalid): "email_invalid",
        str(too_long): "email_too_long",
    }
    assert keys == {
        str(orphan): "owner_missing",
        str(of_rejected): "owner_rejected",
        str(bad_digest): "digest_invalid",
        # One digest twice (differing only in case): the first wins, the other is reported.
        str(lower): "digest_duplicate",
    }
    assert ApiKey.objects.get().legacy_id == str(upper)
    assert report.tables["users"].rejected == 3
    assert report.tables["user_api_keys"].rejected == 4
    assert verify_legacy(apps).verification.ok


def test_a_fixed_row_is_copied_and_its_rejection_forgotten(legacy):
    uid = legacy.user("ann at example.com", "pw")
    copy()
    assert RowIssue.objects.filter(legacy_id=str(uid)).exists()

    legacy.execute(
        f"UPDATE {legacy.table('users')} SET email = %s WHERE id = %s", ["ann@example.com", uid]
    )
    copy()

    assert User.objects.filter(email="ann@example.com").exists()
    assert not RowIssue.objects.filter(legacy_id=str(uid)).exists()


def test_a_key_whose_owner_is_fixed_is_copied_and_its_rejection_forgotten(legacy):
    uid = legacy.user("ann at example.com", "pw")
    key = legacy.api_key(uid, "token-1")
    legacy.user("bob@example.com", "pw")
    copy()
    assert RowIssue.objects.filter(source="user_api_keys", legacy_id=str(key)).exists()

    legacy.execute(
        f"UPDATE {legacy.table('users')} SET email = %s WHERE id = %s", ["ann@example.com", uid]
    )
    with override_settings(LEGACY_COPY_CHUNK_ROWS=1):
        report = copy()

    assert ApiKey.objects.get(legacy_id=str(key)).user.email == "ann@example.com"
    assert not RowIssue.objects.filter(legacy_id__in=[str(uid), str(key)]).exists()
    assert report.tables["user_api_keys"].rejected == 0


def test_a_row_rejected_for_two_reasons_in_turn_is_copied_once_when_fixed(legacy):
    """Each rejection stays on record under its own reason; staging still sees the row
    once, so it is copied once."""
    uid = legacy.user("ann at example.com", "pw")
    bob = legacy.user("bob@example.com", "pw")
    legacy.api_key(bob, "token-0")
    key = legacy.insert("user_api_keys", user_id=bob, key_hash="", key_prefix="token-1")
    copy()
    legacy.execute(f"UPDATE {legacy.table('users')} SET email = %s WHERE id = %s", ["", uid])
    legacy.execute(
        f"UPDATE {legacy.table('user_api_keys')} SET key_hash = %s WHERE id = %s",
        [sha256_hex("token-0").upper(), key],  # the same digest as bob's first key
    )
    copy()
    rejected = RowIssue.objects.filter(kind="rejected")
    assert rejected.filter(source="users", legacy_id=str(uid)).count() == 2
    assert rejected.filter(source="user_api_keys", legacy_id=str(key)).count() == 2

    legacy.execute(
        f"UPDATE {legacy.table('users')} SET email = %s WHERE id = %s", ["ann@example.com", uid]
    )
    legacy.execute(
        f"UPDATE {legacy.table('user_api_keys')} SET key_hash = %s WHERE id = %s",
        [sha256_hex("token-1"), key],
    )
    report = copy()

    assert report.tables["users"].copied == 1
    assert report.tables["user_api_keys"].copied == 1
    assert UserOrigin.objects.filter(source="users", legacy_id=str(uid)).count() == 1
    assert ApiKey.objects.get(legacy_id=str(key)).digest == sha256_hex("token-1")
    assert not rejected.filter(legacy_id__in=[str(uid), str(key)]).exists()
    assert verify_legacy(apps).verification.ok


@pytest.mark.parametrize(
    ("key_hash", "accepted"),
    [
        (sha256_hex("t"), True),
        (sha256_hex("t").upper(), True),  # hex in either case: stored lower case
        (sha256_hex("t")[:63], False),  # (the column is char(64): nothing longer fits)
        (sha256_hex("t")[:63] + "g", False),
        (sha256_hex("t")[:31] + " " + sha256_hex("t")[:32], False),
        (sha256_hex("t")[:62] + "\n" + "0", False),
        ("", False),
    ],
)
def test_a_key_digest_is_64_hex_characters(legacy, key_hash, accepted):
    ann = legacy.user("ann@example.com", "pw")
    key = legacy.insert("user_api_keys", user_id=ann, key_prefix="x", key_hash=key_hash)

    copy()

    copied = ApiKey.objects.filter(legacy_id=str(key))
    assert copied.exists() is accepted
    if accepted:
        assert copied.get().digest == sha256_hex("t")
    else:
        assert RowIssue.objects.get(legacy_id=str(key)).reason == "digest_invalid"


def test_roles_become_groups_from_the_winning_row(legacy):
    legacy.user("ann@example.com", "pw", role="  Admin ")
    legacy.user("ANN@example.com", "pw", role="owner")
    legacy.user("bob@example.com", "pw", role="ADMIN")
    legacy.user("cat@example.com", "pw", role="")
    existing = Group.objects.create(name="member")
    legacy.user("dan@example.com", "pw", role="Member")
    legacy.user("eve@example.com", "pw", role="\u00a0admin\t")  # a no-break space
    legacy.user("fay@example.com", "pw", role="\u3000")  # blank in any script: none

    copy()

    memberships = set(User.groups.through.objects.values_list("user__email", "group__name"))
    assert memberships == {
        ("ann@example.com", "admin"),
        ("bob@example.com", "admin"),
        ("dan@example.com", "member"),
        ("eve@example.com", "admin"),
    }
    reverse_legacy(apps)
    assert list(Group.objects.all()) == [existing]  # made by the copy: gone; existing: kept


def test_a_winning_row_copied_again_leaves_its_users_groups_alone(legacy):
    legacy.user("ann@example.com", "pw", role="admin")
    copy()
    ann = User.objects.get()
    ann.groups.clear()  # an admin took the role away
    UserOrigin.objects.all().delete()  # and deleted the origin by hand
    copy()
    assert UserOrigin.objects.get().user == ann
    assert not ann.groups.exists()


@pytest.mark.parametrize("unit_rows", [1, 1000], ids=["a-unit-per-row", "one-unit"])
def test_a_merged_rows_other_role_is_a_conflict_never_a_right(legacy, unit_rows):
    ann = legacy.user("ann@example.com", role="member")
    merged = legacy.user("ANN@example.com", role=" Admin\u00a0")
    legacy.user("bob@example.com", role="admin")
    legacy.user(" BOB@example.com", role="ADMIN")  # the same role: nothing lost
    legacy.user("cat@example.com", role="owner")
    legacy.user("Cat@example.com", role=" ")  # no role: nothing lost
    dan = legacy.user("dan@example.com", role="")
    dan_merged = legacy.user("DAN@example.com", role="readonly")

    with override_settings(LEGACY_COPY_CHUNK_ROWS=unit_rows):
        report = copy()

    roles = {
        c.user.email: (c.kept_value, c.other_value, c.winner_legacy_id, c.legacy_id, c.rule)
        for c in Conflict.objects.filter(field="role")
    }
    assert roles == {
        "ann@example.com": ("member", "admin", str(ann), str(merged), RIGHTS),
        "dan@example.com": (None, "readonly", str(dan), str(dan_merged), RIGHTS),
    }
    assert report.conflicts == Conflict.objects.count()  # passwords too: salted hashes
    memberships = set(User.groups.through.objects.values_list("user__email", "group__name"))
    assert memberships == {
        ("ann@example.com", "member"),
        ("bob@example.com", "admin"),
        ("cat@example.com", "owner"),
    }


def test_a_merged_row_whose_origin_was_deleted_by_hand_is_copied_again_once(legacy):
    """Its conflicts are still on record: the next run attaches the row again and
    records none of them twice."""
    legacy.user("ann@example.com", "pw-1", full_name="Ann", role="member")
    merged = legacy.user("ANN@example.com", "pw-2", full_name="Annie", role="admin")
    copy()
    conflicts = sorted(Conflict.objects.values_list("field", "legacy_id", "kept_value"))
    assert {field for field, _, _ in conflicts} == {"password", "full_name", "role"}
    UserOrigin.objects.filter(legacy_id=str(merged)).delete()

    report = copy()

    assert report.tables["users"].merged == 1
    assert UserOrigin.objects.get(legacy_id=str(merged)).user == User.objects.get()
    assert sorted(Conflict.objects.values_list("field", "legacy_id", "kept_value")) == conflicts


def test_a_role_given_by_hand_before_a_merged_row_arrives_is_no_conflict(legacy):
    legacy.user("ann@example.com", role="member")
    legacy.user("bob@example.com", role="member")
    copy()
    ann, bob = User.objects.get(email="ann@example.com"), User.objects.get(email="bob@example.com")
    ann.groups.add(Group.objects.create(name="admin"))  # an admin granted it here
    bob.groups.clear()  # and took bob's role away
    legacy.user("ANN@example.com", role="admin")
    bob_row = legacy.user("BOB@example.com", role="admin")

    copy()

    conflict = Conflict.objects.get(field="role")
    assert (conflict.user, conflict.legacy_id) == (bob, str(bob_row))
    assert (conflict.kept_value, conflict.other_value) == (None, "admin")
    assert set(ann.groups.values_list("name", flat=True)) == {"member", "admin"}
    assert not bob.groups.exists()


def test_rights_never_come_from_the_legacy_role(legacy):
    legacy.user("root@example.com", "pw", role="admin")
    copy()
    user = User.objects.get()
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_reverse_removes_exactly_what_the_copy_created(legacy):
    native = User.objects.create_user("native@example.com", "pw")
    ann = legacy.user("ann@example.com", "pw")
    legacy.user("Native@example.com", "legacy-pw")
    legacy.user("bad", "pw")
    legacy.api_key(ann, "t")
    copy()
    assert UserOrigin.objects.filter(user=native).exists()  # merged into the native user

    reverse_legacy(apps)

    assert list(User.objects.all()) == [native]
    assert native.check_password("pw")
    for model in (UserOrigin, ApiKey, RowIssue, Conflict):
        assert model.objects.count() == 0


def test_reverse_then_forward_gives_the_same_state(legacy):
    ann = legacy.user("ann@example.com", "pw", role="member")
    legacy.user("ANN@example.com", "pw2", is_active=False)
    legacy.user("bad", "pw")
    legacy.api_key(ann, "t1")
    copy()
    state = consolidated_state()

    reverse_legacy(apps)
    copy()

    assert consolidated_state() == state


def test_a_merged_native_user_keeps_its_password(legacy):
    native = User.objects.create_user("ann@example.com", "native-pw")
    legacy.user("ANN@example.com", "legacy-pw")

    report = copy()

    assert report.tables["users"].merged == 1
    native.refresh_from_db()
    assert native.check_password("native-pw")
    assert Conflict.objects.filter(user=native, field="password").exists()


def test_dry_run_reports_and_writes_nothing(legacy):
    ann = legacy.user("ann@example.com", "pw")
    legacy.user("carol@example.com", None)
    legacy.user("bad", "pw")
    legacy.api_key(ann, "t")
    runs = CopyRun.objects.count()

    report = copy(dry_run=True)

    assert report.tables["users"].copied == 2
    assert report.tables["user_api_keys"].copied == 1
    assert report.hash_census["users"] == {"bcrypt": 2, "empty": 1}
    assert report.run_id is None
    for model in (User, UserOrigin, ApiKey, RowIssue, Conflict):
        assert model.objects.count() == 0
    assert CopyRun.objects.count() == runs


def test_verify_passes_after_a_copy_and_names_tampered_rows(legacy):
    ann = legacy.user("ann@example.com", "pw", full_name="Ann")
    bob = legacy.user("bob@example.com", "pw", is_active=False)
    key = legacy.api_key(ann, "t1", expires_at=timezone.now() + timedelta(days=1))
    copy()
    assert verify_legacy(apps).verification.ok

    User.objects.filter(email="ann@example.com").update(password="pbkdf2_sha256$1$x$y")
    User.objects.filter(email="bob@example.com").update(is_active=True)
    ApiKey.objects.update(expires_at=None)
    legacy.user("late@example.com", "pw")  # not copied yet

    v = verify_legacy(apps).verification

    found = {(p.source, p.legacy_id, p.problem) for p in v.problems}
    assert ("users", str(ann), "password_differs") in found
    assert ("users", str(bob), "active_but_inactive_in_legacy") in found
    assert ("user_api_keys", str(key), "expires_later_than_legacy") in found
    assert any(p.problem == "not_copied" for p in v.problems)
    assert not v.ok


def test_verify_accepts_a_password_changed_in_authcore(legacy):
    legacy.user("ann@example.com", "old-pw")
    copy()
    user = User.objects.get()
    user.set_password("new-pw")
    user.save()

    assert verify_legacy(apps).verification.ok


def test_upgrade_on_login_keeps_verify_green(legacy, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "accounts.hashers.LegacyBcryptPasswordHasher",
    ]
    legacy.user("ann@example.com", "pw")
    copy()

    assert authenticate(email="ann@example.com", password="pw") is not None

    assert User.objects.get().password.startswith("md5$")
    assert verify_legacy(apps).verification.ok


@pytest.mark.postgres
def test_planner_settings_of_a_unit_do_not_outlive_it_inside_a_migration(legacy):
    """Inside a migration's transaction the units are savepoints: the join settings a unit
    makes for its look-ups are put back, so later steps plan as usual."""
    legacy.user("ann@example.com", "pw")
    legacy.user("ANN@example.com", "pw")

    with transaction.atomic(), override_settings(LEGACY_COPY_CHUNK_ROWS=1):
        copy()
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_hashjoin")
            hashjoin = cursor.fetchone()[0]
            cursor.execute("SHOW enable_mergejoin")
            mergejoin = cursor.fetchone()[0]

    assert (hashjoin, mergejoin) == ("on", "on")
