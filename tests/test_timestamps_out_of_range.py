"""Timestamps PostgreSQL keeps but Python cannot hold ('infinity', BC, years past 9999).

Each is copied as the nearest instant Python can hold, so that it keeps its meaning
(an expiry at infinity never comes, one at -infinity is long past) and no login, token or
admin page that reads it fails.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.urls import reverse

from accounts.models import ApiKey, LoginSession, User
from legacy.engine import copy_legacy, verify_legacy
from tests.conftest import sha256_hex
from tests.test_credentials_after_move import bearer

pytestmark = pytest.mark.postgres

TOO_LATE = ("infinity", "12000-01-01 00:00:00+00")
TOO_EARLY = ("-infinity", "0044-03-15 00:00:00+00 BC")


@pytest.mark.parametrize("value", TOO_LATE + TOO_EARLY)
def test_a_person_with_such_dates_logs_in_and_is_listed(legacy, admin_client, value):
    legacy.user("ann@example.com", "pw", created_at=value, last_login_at=value)
    legacy.insert("user", email="bob@example.com", hashed_password=None, created_at=value)

    copy_legacy(apps)

    assert authenticate(email="ann@example.com", password="pw") is not None
    assert User.objects.filter(email="bob@example.com").exists()
    assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert verify_legacy(apps).verification.ok


@pytest.mark.parametrize("value", TOO_LATE)
def test_a_key_that_expires_at_infinity_never_expires(legacy, value):
    ann = legacy.user("ann@example.com", "pw")
    legacy.api_key(ann, "ann-token", expires_at=value, created_at=value, last_used_at=value)

    copy_legacy(apps)

    assert bearer("ann-token").get("/api/me").status_code == 200
    assert ApiKey.objects.get().expires_at.year >= 9999
    assert verify_legacy(apps).verification.ok


@pytest.mark.parametrize("value", TOO_EARLY)
def test_a_key_that_expired_at_minus_infinity_stays_expired(legacy, admin_client, value):
    ann = legacy.user("ann@example.com", "pw")
    legacy.api_key(ann, "ann-token", expires_at=value, created_at=value, last_used_at=value)

    copy_legacy(apps)

    assert bearer("ann-token").get("/api/me").status_code == 401
    assert admin_client.get(reverse("admin:accounts_apikey_changelist")).status_code == 200
    assert verify_legacy(apps).verification.ok


@pytest.mark.parametrize("value", TOO_LATE + TOO_EARLY)
def test_a_key_revoked_at_any_such_time_stays_revoked(legacy, value):
    bob = legacy.insert("user", email="bob@example.com")
    legacy.insert(
        "user_api_key", user_id=bob, prefix="p", key_hash=sha256_hex("bob-token"),
        revoked_at=value,
    )

    copy_legacy(apps)

    assert ApiKey.objects.get().revoked_at is not None
    assert bearer("bob-token").get("/api/me").status_code == 401
    assert verify_legacy(apps).verification.ok


@pytest.mark.parametrize("value", TOO_LATE + TOO_EARLY)
def test_sessions_with_such_dates_are_copied_and_listed(legacy, admin_client, value):
    bob = legacy.insert("user", email="bob@example.com")
    legacy.insert(
        "user_session", user_id=bob, token_hash=sha256_hex("session"), created_at=value,
        expires_at=value, last_seen_at=value,
    )

    copy_legacy(apps)

    assert LoginSession.objects.count() == 1
    assert admin_client.get(reverse("admin:accounts_loginsession_changelist")).status_code == 200
    assert verify_legacy(apps).verification.ok


def test_dates_that_are_not_set_stay_unset(legacy):
    ann = legacy.user("ann@example.com", "pw", last_login_at=None)
    legacy.api_key(ann, "ann-token", expires_at=None, last_used_at=None)

    copy_legacy(apps)

    key = ApiKey.objects.get()
    assert (key.expires_at, key.last_used_at, key.revoked_at) == (None, None, None)
    assert User.objects.get().last_login is None
    assert bearer("ann-token").get("/api/me").status_code == 200
