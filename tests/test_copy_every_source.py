"""Every legacy source into one person: merge rules, conflicts, owned rows, tenants."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from django.apps import apps
from django.contrib.auth import authenticate
from django.db import connection
from django.utils import timezone
from passlib.hash import pbkdf2_sha256

from accounts.models import ApiKey, LoginSession, Membership, Profile, Tenant, User, UserOrigin
from legacy.engine import copy_legacy, reverse_legacy, verify_legacy
from legacy.models import Conflict, RowIssue
from tests.conftest import bcrypt_hash, sha256_hex

LATER = timezone.now() + timedelta(days=30)


def copy():
    return copy_legacy(apps)


def shared_user(legacy, email, password="shared-pw", **values):
    values.setdefault("hashed_password", pbkdf2_sha256.hash(password) if password else None)
    return legacy.insert("user", email=email, **values)


def fu_user(legacy, email, password="fu-pw", **values):
    return legacy.insert(
        "fu_users", email=email, hashed_password=PasswordHasher().hash(password), **values
    )


def state():
    return {
        "users": sorted(
            User.objects.values_list(
                "email",
                "password",
                "is_active",
                "is_superuser",
                "is_verified",
                "full_name",
                "legacy_source",
                "legacy_id",
            )
        ),
        "origins": sorted(UserOrigin.objects.values_list("user__email", "source", "legacy_id")),
        "keys": sorted(ApiKey.objects.values_list("user__email", "digest", "is_active")),
        "profiles": sorted(Profile.objects.values_list("user__email", "legacy_id")),
        "sessions": sorted(LoginSession.objects.values_list("user__email", "token_digest")),
        "tenants": sorted(Tenant.objects.values_list("slug", "legacy_id")),
        "memberships": sorted(
            Membership.objects.values_list("user__email", "tenant__slug", "role")
        ),
        "issues": sorted(RowIssue.objects.values_list("source", "legacy_id", "reason")),
        "conflicts": sorted(Conflict.objects.values_list("user__email", "field", "source")),
    }


def test_a_person_in_one_source_only(legacy):
    shared_user(legacy, "sam@example.com", first_name="Sam", last_name="Shared")
    fu_user(legacy, "fay@example.com", is_verified=True)

    copy()

    sam = User.objects.get(email="sam@example.com")
    assert (sam.legacy_source, sam.full_name) == ("user", "Sam Shared")
    assert authenticate(email="sam@example.com", password="shared-pw") == sam
    fay = User.objects.get(email="fay@example.com")
    assert fay.is_verified and fay.legacy_source == "fu_users"
    assert authenticate(email="fay@example.com", password="fu-pw") == fay


def test_a_person_in_all_three_sources_is_one_user(legacy):
    auth_id = legacy.user("ann@example.com", "auth-pw", full_name="Ann Auth")
    shared_id = shared_user(legacy, " ANN@example.com", "shared-pw", first_name="Ann")
    fu_id = fu_user(legacy, "Ann@Example.com\t", "fu-pw", is_verified=True)

    report = copy()

    user = User.objects.get()
    assert (user.legacy_source, user.legacy_id) == ("users", str(auth_id))
    assert set(user.origins.values_list("source", "legacy_id")) == {
        ("users", str(auth_id)),
        ("user", str(shared_id)),
        ("fu_users", str(fu_id)),
    }
    assert report.tables["user"].merged == 1 and report.tables["fu_users"].merged == 1
    # The highest-priority row's password wins; the others are conflicts, never shown.
    assert authenticate(email="ann@example.com", password="auth-pw") == user
    assert authenticate(email="ann@example.com", password="shared-pw") is None
    assert authenticate(email="ann@example.com", password="fu-pw") is None
    password_conflicts = Conflict.objects.filter(field="password")
    assert set(password_conflicts.values_list("source", flat=True)) == {"user", "fu_users"}
    assert not password_conflicts.exclude(kept_value=None).exists()
    assert Conflict.objects.get(field="full_name").kept_value == "Ann Auth"
    assert user.is_verified  # fastapi-users' verification carries over


def test_a_person_in_two_sources(legacy):
    shared_user(legacy, "bo@example.com", "shared-pw")
    fu_user(legacy, "BO@example.com", "fu-pw")

    copy()

    user = User.objects.get()
    assert user.legacy_source == "user"
    assert authenticate(email="bo@example.com", password="shared-pw") == user


def test_inactive_in_a_low_priority_source_means_inactive(legacy):
    legacy.user("ann@example.com", "pw", is_active=True)
    fu_user(legacy, "ann@example.com", is_active=False)

    copy()

    assert User.objects.get().is_active is False
    assert Conflict.objects.filter(field="is_active", source="fu_users").exists()


def test_superuser_only_in_a_low_priority_source_does_not_widen_rights(legacy):
    legacy.user("ann@example.com", "pw")
    shared_user(legacy, "ann@example.com", is_superuser=True)
    fu_user(legacy, "ann@example.com", is_superuser=True)

    copy()

    user = User.objects.get()
    assert (user.is_superuser, user.is_staff) == (False, False)
    assert Conflict.objects.filter(field="is_superuser").count() == 2
    assert verify_legacy(apps).verification.ok


def test_superuser_of_the_winning_row_stays_superuser_but_not_staff(legacy):
    shared_user(legacy, "root@example.com", is_superuser=True)
    copy()
    user = User.objects.get()
    assert (user.is_superuser, user.is_staff) == (True, False)


def test_two_rows_of_one_source_differing_in_case(legacy):
    older = shared_user(legacy, "kim@example.com", created_at=timezone.now() - timedelta(days=9))
    shared_user(legacy, "KIM@example.com", "other-pw", created_at=timezone.now())
    fu_user(legacy, "x@example.com")
    fu_user(legacy, "X@EXAMPLE.COM ")

    copy()

    assert User.objects.get(email="kim@example.com").legacy_id == str(older)
    assert User.objects.filter(email__iexact="x@example.com").count() == 1
    assert UserOrigin.objects.filter(source="fu_users").count() == 2


@pytest.mark.usefixtures("every_source_verified")
def test_keys_profiles_and_sessions_land_on_the_person(legacy):
    auth_id = legacy.user("ann@example.com", "pw")
    legacy.api_key(auth_id, "auth-token")
    shared_id = shared_user(legacy, "ANN@example.com")
    legacy.insert(
        "user_api_key",
        user_id=shared_id,
        prefix="shared00",
        key_hash=sha256_hex("shared-token"),
        revoked_at=timezone.now(),
    )
    legacy.insert(
        "user_profile",
        user_id=shared_id,
        bio="Hi",
        timezone="Europe/Zürich",
        preferences={"theme": "dark", "greeting": "grüß dich 👋", "langs": ["日本語"]},
    )
    legacy.insert(
        "user_session",
        user_id=shared_id,
        token_hash=sha256_hex("s4"),
        ip_address="192.0.2.10",
        user_agent="curl/8",
        expires_at=LATER,
    )
    legacy.insert(
        "user_session",
        user_id=shared_id,
        token_hash=sha256_hex("s6"),
        ip_address="2001:db8::1",
        expires_at=LATER,
    )

    copy()

    user = User.objects.get()
    assert set(user.api_keys.values_list("digest", "is_active")) == {
        (sha256_hex("auth-token"), True),
        (sha256_hex("shared-token"), False),  # revoked in the legacy table
    }
    assert user.profile.preferences == {
        "theme": "dark",
        "greeting": "grüß dich 👋",
        "langs": ["日本語"],
    }
    assert user.profile.timezone == "Europe/Zürich"
    assert sorted(user.login_sessions.values_list("ip_address", flat=True)) == [
        "192.0.2.10",
        "2001:db8::1",
    ]
    assert verify_legacy(apps).verification.ok


def test_orphans_are_reported_not_attached_to_anyone(legacy):
    for key in ("user_api_key", "user_profile", "user_session"):
        legacy.allow_orphans(key)
    ghost = uuid.uuid4()
    key = legacy.insert("user_api_key", user_id=ghost, prefix="p", key_hash=sha256_hex("k"))
    profile = legacy.insert("user_profile", user_id=ghost)
    session = legacy.insert(
        "user_session", user_id=ghost, token_hash=sha256_hex("s"), expires_at=LATER
    )

    copy()

    reasons = set(RowIssue.objects.values_list("source", "legacy_id", "reason"))
    assert reasons == {
        ("user_api_key", str(key), "owner_missing"),
        ("user_profile", str(profile), "owner_missing"),
        ("user_session", str(session), "owner_missing"),
    }
    assert not ApiKey.objects.exists() and not Profile.objects.exists()
    assert verify_legacy(apps).verification.ok


def test_a_digest_in_both_key_tables_is_used_once(legacy):
    auth_id = legacy.user("ann@example.com", "pw")
    legacy.api_key(auth_id, "same-token")
    shared_id = shared_user(legacy, "bob@example.com")
    dup = legacy.insert(
        "user_api_key", user_id=shared_id, prefix="p", key_hash=sha256_hex("same-token")
    )

    copy()

    assert ApiKey.objects.get().user.email == "ann@example.com"
    assert RowIssue.objects.get(source="user_api_key").legacy_id == str(dup)
    assert RowIssue.objects.get(source="user_api_key").reason == "digest_duplicate"


@pytest.mark.usefixtures("every_source_verified")
def test_one_profile_per_person(legacy):
    first = shared_user(legacy, "ann@example.com", created_at=timezone.now() - timedelta(1))
    second = shared_user(legacy, "ANN@example.com")
    kept = legacy.insert("user_profile", user_id=first, bio="first")
    extra = legacy.insert("user_profile", user_id=second, bio="second")

    copy()

    assert Profile.objects.get().legacy_id == str(kept)
    issue = RowIssue.objects.get(source="user_profile")
    assert (issue.legacy_id, issue.reason) == (str(extra), "already_has_one")


@pytest.mark.postgres
def test_preferences_that_are_not_an_object_are_copied_empty_with_a_warning(legacy):
    uid = shared_user(legacy, "ann@example.com")
    profile = legacy.insert("user_profile", user_id=uid, bio="kept")
    legacy.execute(f"UPDATE {legacy.table('user_profile')} SET preferences = '[1, 2]'::jsonb")

    copy()

    assert Profile.objects.get().preferences == {}
    assert Profile.objects.get().bio == "kept"
    issue = RowIssue.objects.get(source="user_profile")
    assert (issue.legacy_id, issue.kind, issue.reason) == (
        str(profile),
        "warning",
        "preferences_not_object",
    )


def test_tenants_and_memberships(legacy):
    acme = legacy.insert("clients", name="Acme", slug="acme")
    globex = legacy.insert("clients", name="Globex", slug="globex")
    legacy.user("ann@example.com", "pw", client_id=acme, role=" Owner")
    legacy.user("ANN@example.com", "pw", client_id=acme, role="member")
    legacy.user("bob@example.com", "pw", client_id=globex, role="")
    legacy.user("solo@example.com", "pw")

    report = copy()

    assert sorted(Tenant.objects.values_list("slug", flat=True)) == ["acme", "globex"]
    assert set(Membership.objects.values_list("user__email", "tenant__slug", "role")) == {
        ("ann@example.com", "acme", "owner"),
        ("bob@example.com", "globex", "member"),
    }
    assert report.tables["memberships"].copied == 2
    assert verify_legacy(apps).verification.ok


def test_clients_authcore_cannot_hold_are_rejected_by_name(legacy):
    """Drift: a clients table without NOT NULL on name, and wider columns."""
    table = legacy.table("clients")
    if connection.vendor == "postgresql":
        legacy.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN name DROP NOT NULL,'
            " ALTER COLUMN name TYPE varchar(500), ALTER COLUMN slug TYPE varchar(500)"
        )
    else:
        legacy.execute(f'DROP TABLE "{table}"')
        legacy.execute(
            f'CREATE TABLE "{table}" (id char(32) PRIMARY KEY, name varchar(500),'
            " slug varchar(500) NOT NULL UNIQUE, is_active boolean NOT NULL,"
            " created_at datetime NOT NULL)"
        )
    legacy.insert("clients", name="Acme", slug="acme")
    nameless = legacy.insert("clients", name=None, slug="nameless")
    blank = legacy.insert("clients", name=" ", slug="blank")
    wide = legacy.insert("clients", name="x" * 201, slug="wide")
    long_slug = legacy.insert("clients", name="Long", slug="s" * 101)

    report = copy()

    assert list(Tenant.objects.values_list("slug", flat=True)) == ["acme"]
    assert set(RowIssue.objects.values_list("legacy_id", "reason")) == {
        (str(nameless), "name_empty"),
        (str(blank), "name_empty"),
        (str(wide), "value_too_long"),
        (str(long_slug), "value_too_long"),
    }
    assert report.tables["clients"].rejected == 4
    assert verify_legacy(apps).verification.ok


def test_a_row_naming_a_tenant_not_copied_is_reported_and_counted(legacy):
    """The memberships' rows are the copied people's rows that name a tenant: one naming a
    tenant that was rejected is a warning saying so; a person not copied is not counted.
    The line's columns add up, and count none of the users' own warnings."""
    acme = legacy.insert("clients", name="Acme", slug="acme")
    nameless = legacy.insert("clients", name="Nameless", slug=" ")  # rejected: slug_empty
    legacy.user("ann@example.com", "pw", client_id=acme, role="admin")
    bob = legacy.user("bob@example.com", "pw", client_id=nameless, role="admin")
    legacy.user("not-an-email", "pw", client_id=acme, role="admin")
    legacy.user("cy@example.com", password="")  # a users warning, not a membership's

    report = copy()

    assert set(Membership.objects.values_list("user__email", "tenant__slug")) == {
        ("ann@example.com", "acme")
    }
    issue = RowIssue.objects.get(source="users", reason="tenant_rejected")
    assert (issue.legacy_id, issue.kind) == (str(bob), "warning")
    assert issue.detail == f"client {nameless}"
    assert RowIssue.objects.filter(source="users", reason="password_unusable").exists()
    result = report.tables["memberships"]
    assert (result.rows, result.copied, result.warnings, result.already_done) == (2, 1, 1, 0)
    again = copy().tables["memberships"]
    assert (again.rows, again.copied, again.warnings, again.already_done) == (2, 0, 1, 1)
    assert RowIssue.objects.filter(reason="tenant_rejected").count() == 1


def test_rows_added_later_join_their_tenant_once(legacy):
    """A later row of a person already member of a tenant adds no second membership, and
    keeps the first row's role; a new person in the same tenant becomes a member."""
    acme = legacy.insert("clients", name="Acme", slug="acme")
    legacy.user("ann@example.com", "pw", client_id=acme, role="owner")
    copy()

    legacy.user("ANN@example.com", "pw", client_id=acme, role="member")
    legacy.user("cat@example.com", "pw", client_id=acme, role="admin")
    report = copy()

    assert set(Membership.objects.values_list("user__email", "tenant__slug", "role")) == {
        ("ann@example.com", "acme", "owner"),
        ("cat@example.com", "acme", "admin"),
    }
    assert report.tables["memberships"].copied == 1
    assert copy().tables["memberships"].copied == 0
    assert verify_legacy(apps).verification.ok


def test_reverse_and_forward_again_give_the_same_state(legacy):
    acme = legacy.insert("clients", name="Acme", slug="acme")
    auth_id = legacy.user("ann@example.com", "pw", client_id=acme, role="admin")
    legacy.api_key(auth_id, "t")
    shared_id = shared_user(legacy, "ANN@example.com", is_superuser=True)
    legacy.insert("user_profile", user_id=shared_id, preferences={"a": 1})
    legacy.insert("user_session", user_id=shared_id, token_hash=sha256_hex("s"), expires_at=LATER)
    fu_user(legacy, "ann@example.com", is_active=False, is_verified=True)
    fu_user(legacy, "bad-email")
    copy()
    before = state()

    reverse_legacy(apps)
    assert User.objects.count() == Tenant.objects.count() == RowIssue.objects.count() == 0
    copy()

    assert state() == before


def test_a_second_run_changes_nothing(legacy):
    shared_id = shared_user(legacy, "ann@example.com")
    fu_user(legacy, "ANN@example.com", is_verified=True)
    legacy.insert("user_session", user_id=shared_id, token_hash=sha256_hex("s"), expires_at=LATER)
    legacy.insert("clients", name="Acme", slug="acme")
    copy()
    before = state()

    report = copy()

    assert state() == before
    assert report.conflicts == 0
    assert all(t.copied == t.merged == 0 for t in report.tables.values())


def test_verify_catches_a_session_that_outlives_its_legacy_row(legacy):
    shared_id = shared_user(legacy, "ann@example.com")
    session = legacy.insert(
        "user_session",
        user_id=shared_id,
        token_hash=sha256_hex("s"),
        expires_at=LATER,
        revoked_at=timezone.now(),
    )
    copy()
    LoginSession.objects.update(revoked_at=None)

    problems = {(p.legacy_id, p.problem) for p in verify_legacy(apps).verification.problems}

    assert (str(session), "revoked_in_legacy") in problems


def test_one_source_at_a_time(legacy):
    legacy.user("ann@example.com", "pw")
    fu_user(legacy, "fay@example.com")

    copy_legacy(apps, sources=["fastapi_users"])

    assert list(User.objects.values_list("email", flat=True)) == ["fay@example.com"]


def test_argon2_and_bcrypt_2y_log_in_after_the_move(legacy):
    fu_user(legacy, "fay@example.com", "fay-pw")
    legacy.user(
        "yan@example.com",
        None,
        password_hash=bcrypt_hash("yan-pw", prefix=b"2b").replace("$2b$", "$2y$", 1),
    )
    copy()
    assert authenticate(email="fay@example.com", password="fay-pw") is not None
    assert authenticate(email="yan@example.com", password="yan-pw") is not None


@pytest.mark.postgres  # SQLite folds ASCII only, so it never merges look-alikes at all
def test_a_lookalike_address_is_rejected_not_merged_into_another_person(legacy):
    ken = legacy.user("ken@example.com", "ken-pw")
    kelvin = legacy.user("\u212aen@example.com", "other-pw")  # Kelvin sign, lower-cases to k
    legacy.api_key(kelvin, "kelvin-token")

    copy()

    user = User.objects.get()
    assert user.legacy_id == str(ken)
    assert list(user.origins.values_list("legacy_id", flat=True)) == [str(ken)]
    assert RowIssue.objects.get(source="users", legacy_id=str(kelvin)).reason == (
        "email_lookalike"
    )
    assert not ApiKey.objects.exists()  # its key is rejected with its owner


def test_login_finds_exactly_the_address_the_constraint_knows(db):
    real = User.objects.create_user("admin@example.com", "pw")
    User.objects.create_user("adm\u0131n@example.com", "other")  # dotless i
    assert authenticate(email="ADMIN@example.com", password="pw") == real


def test_a_name_longer_than_a_user_holds_is_cut_and_reported(legacy):
    """'"user"' keeps first and last names of 150 characters each: together 301, where a
    user's full name holds 255. The row is copied with the name cut, and says so."""
    long = legacy.insert(
        "user", email="long@example.com", hashed_password=pbkdf2_sha256.hash("pw"),
        first_name="F" * 150, last_name="L" * 150,
    )
    fits = legacy.insert(
        "user", email="ann@example.com", hashed_password=pbkdf2_sha256.hash("pw"),
        first_name="Ann", last_name="Lee",
    )
    merged = legacy.insert("fu_users", email="LONG@example.com", hashed_password="")

    report = copy()

    user = User.objects.get(email="long@example.com")
    assert user.full_name == "F" * 150 + " " + "L" * 104
    assert authenticate(email="long@example.com", password="pw") == user
    assert User.objects.get(email="ann@example.com").full_name == "Ann Lee"
    issue = RowIssue.objects.get(reason="value_cut")
    assert (issue.source, issue.legacy_id, issue.kind) == ("user", str(long), "warning")
    assert "full_name" in issue.detail
    assert report.tables["user"].warnings == 1
    assert not RowIssue.objects.filter(legacy_id__in=[str(fits), str(merged)], reason="value_cut")
    assert verify_legacy(apps).verification.ok
    assert copy().tables["user"].copied == 0
