"""A person whose winning row has no usable password keeps one they have elsewhere."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from passlib.hash import pbkdf2_sha256

from accounts.models import User
from legacy.engine import copy_legacy, reverse_legacy, verify_legacy
from legacy.engine.people import PASSWORD_TAKEN_RULE
from legacy.models import Conflict
from tests.conftest import bcrypt_hash
from tests.test_copy_every_source import fu_user, shared_user
from tests.test_sync import set_row

# Each merged row here comes from a service declared to have confirmed its addresses:
# test_merge_trust.py covers rows that prove nothing.
pytestmark = pytest.mark.usefixtures("every_source_verified")


def logs_in(email: str, password: str) -> bool:
    return authenticate(email=email, password=password) is not None


@pytest.mark.parametrize("winning_hash", ["", "{SSHA}not-a-format-we-check"])
def test_the_first_usable_password_of_a_merged_row_is_taken(legacy, winning_hash):
    legacy.user("Ann@Example.com", password_hash=winning_hash)  # the winning row
    shared_user(legacy, "ann@example.com ", "shared-pw")
    fu_user(legacy, "ANN@example.com", "fu-pw")

    copy_legacy(apps)

    ann = User.objects.get()
    assert ann.legacy_source == "users"
    assert logs_in("ann@example.com", "shared-pw")
    assert not logs_in("ann@example.com", "fu-pw")
    rules = dict(Conflict.objects.filter(field="password").values_list("source", "rule"))
    assert rules["user"] == PASSWORD_TAKEN_RULE
    assert "no longer works" in rules["fu_users"]
    assert verify_legacy(apps).verification.ok
    password = User.objects.get().password  # a login re-hashed it
    copy_legacy(apps)  # a re-run changes nothing
    assert User.objects.get().password == password


def test_within_one_table_the_first_usable_row_is_taken(legacy):
    legacy.user("ann@example.com", password="")
    legacy.user("Ann@example.com", password="second")
    legacy.user("ANN@example.com", password="third")

    copy_legacy(apps)

    assert logs_in("ann@example.com", "second")
    assert not logs_in("ann@example.com", "third")
    assert verify_legacy(apps).verification.ok


def test_nobody_gets_a_password_where_none_is_usable(legacy):
    legacy.user("ann@example.com", password="")
    shared_user(legacy, "ann@example.com", password=None)

    copy_legacy(apps)

    assert not User.objects.get().has_usable_password()
    assert verify_legacy(apps).verification.ok


def test_a_user_made_in_authcore_never_takes_a_legacy_password(legacy):
    """Only users the copy made: someone who signed up without a password stays so."""
    User.objects.create(email="ann@example.com", password="!")
    legacy.user("ann@example.com", password="legacy-pw")

    copy_legacy(apps)

    assert User.objects.get().password == "!"
    assert not logs_in("ann@example.com", "legacy-pw")


def test_a_password_set_later_in_the_winning_service_is_synced(legacy):
    """The taken password counts as copied: a new one in the winning row replaces it."""
    ann = legacy.user("ann@example.com", password="")
    shared_user(legacy, "ann@example.com", "shared-pw")
    copy_legacy(apps)
    set_row(legacy, "users", ann, password_hash=bcrypt_hash("new-pw"))

    copy_legacy(apps, sync=True)

    assert logs_in("ann@example.com", "new-pw")
    assert not logs_in("ann@example.com", "shared-pw")
    assert not Conflict.objects.filter(field="password", source="users").exists()
    assert verify_legacy(apps).verification.ok


def test_a_password_changed_later_in_the_row_it_was_taken_from_is_synced(legacy):
    """The merged row gave the password: its change in the old service is followed, and
    --verify, which compares with what the rows say now, still passes after the sync."""
    legacy.user("ann@example.com", password="")
    shared = shared_user(legacy, "ann@example.com", "shared-pw")
    copy_legacy(apps)
    set_row(legacy, "user", shared, hashed_password=pbkdf2_sha256.hash("changed-pw"))

    report = copy_legacy(apps, sync=True)

    assert report.tables["user"].synced >= 1
    assert logs_in("ann@example.com", "changed-pw")
    assert not logs_in("ann@example.com", "shared-pw")
    assert verify_legacy(apps).verification.ok


def test_when_both_rows_change_the_winning_rows_password_is_synced(legacy):
    ann = legacy.user("ann@example.com", password="")
    other = legacy.user("ANN@example.com", password="other-pw")
    copy_legacy(apps)
    set_row(legacy, "users", ann, password_hash=bcrypt_hash("winner-pw"))
    set_row(legacy, "users", other, password_hash=bcrypt_hash("other-changed"))

    copy_legacy(apps, sync=True)

    assert logs_in("ann@example.com", "winner-pw")
    assert not logs_in("ann@example.com", "other-changed")


def test_the_reverse_removes_the_user_and_its_taken_password(legacy):
    legacy.user("ann@example.com", password="")
    shared_user(legacy, "ann@example.com", "shared-pw")
    copy_legacy(apps)

    reverse_legacy(apps)

    assert not User.objects.exists()
