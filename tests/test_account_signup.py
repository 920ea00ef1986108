"""Sign-up at /api/auth/signup: an unverified account, and nothing an address can reveal."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import User
from tests.account_helpers import PASSWORD, client, last_token, login, mails_to, make_user

SIGNUP = "/api/auth/signup"


def sign_up(email: str, password: str = PASSWORD, addr: str | None = None, **extra):
    return client(addr).post(SIGNUP, {"email": email, "password": password, **extra}, format="json")


def test_sign_up_makes_an_unverified_account_and_mails_a_link(db, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    response = sign_up("new@example.com", full_name="New Person")

    assert response.status_code == 202
    user = User.objects.get(email="new@example.com")
    assert (user.is_verified, user.is_staff, user.is_superuser) == (False, False, False)
    assert user.full_name == "New Person"
    assert user.check_password(PASSWORD)
    [message] = mails_to("new@example.com")
    assert "https://app.example.com/verify-email?token=" in message.body
    assert message.alternatives[0][1] == "text/html"
    assert last_token("new@example.com", "verify-email")
    assert login("new@example.com").status_code == 200


@pytest.mark.parametrize("typed", ["ada@example.com", "ADA@Example.COM", "  Ada@example.com\t"])
def test_an_address_that_has_an_account_gets_the_same_answer_and_an_email(db, typed):
    ada = make_user("Ada@example.com")
    before = ada.password
    fresh = sign_up("fresh@example.com")
    taken = sign_up(typed, password="another passphrase 77")

    assert taken.status_code == fresh.status_code == 202
    assert taken.json() == fresh.json()
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1
    ada.refresh_from_db()
    assert ada.password == before
    [note] = mails_to("Ada@example.com")
    assert "already has an account" in note.body
    assert "verify-email" not in note.body


@pytest.mark.parametrize("field", ["is_staff", "is_superuser", "is_verified", "is_active"])
def test_sign_up_takes_no_flag(db, field):
    value = field != "is_active"
    response = sign_up("flag@example.com", **{field: value, "groups": [1]})
    assert response.status_code == 202
    user = User.objects.get(email="flag@example.com")
    assert getattr(user, field) is not value
    assert not user.groups.exists()


def test_a_weak_password_is_refused_the_same_for_any_address(db):
    make_user("taken@example.com")
    for address in ("taken@example.com", "free@example.com"):
        response = sign_up(address, password="12345678")
        assert response.status_code == 400
        assert set(response.json()) == {"password"}
    assert not User.objects.filter(email="free@example.com").exists()
    assert mail.outbox == []


def test_a_password_like_the_address_is_refused(db):
    assert sign_up("jonathan.smithers@example.com", "jonathan.smithers").status_code == 400


@pytest.mark.parametrize("address", ["not-an-address", "a b@example.com", "x@\u212aexample.com"])
def test_bad_addresses_are_refused(db, address):
    assert sign_up(address).status_code == 400
    assert not User.objects.exists()


def test_closed_sign_up(db, settings):
    settings.REGISTRATION_OPEN = False
    assert sign_up("late@example.com").status_code == 403
    assert not User.objects.exists()
    assert mail.outbox == []


def test_a_copied_legacy_user_is_neither_duplicated_nor_changed(legacy):
    legacy.user("legacy@example.com", "old-legacy-pw")
    legacy.insert(
        "fu_users",
        id="3d8a5d6e-3f9b-4a55-9a4c-111111111111",
        email="verified@example.com",
        hashed_password="$2b$04$" + "x" * 53,
        is_verified=True,
    )
    call_command("migrate_legacy_users", stdout=StringIO(), stderr=StringIO())
    copied = User.objects.get(email__iexact="legacy@example.com")
    verified = User.objects.get(email__iexact="verified@example.com")
    hashes = (copied.password, verified.password)
    assert verified.is_verified

    for typed in ("LEGACY@example.com", " legacy@example.com ", "verified@EXAMPLE.com"):
        assert sign_up(typed, password="take over attempt 9").status_code == 202

    assert User.objects.filter(email__iexact="legacy@example.com").count() == 1
    copied.refresh_from_db()
    verified.refresh_from_db()
    assert (copied.password, verified.password) == hashes
    assert verified.is_verified
    assert login("legacy@example.com", "old-legacy-pw").status_code == 200
    assert login("legacy@example.com", "take over attempt 9").status_code == 401


def test_sign_up_is_throttled_per_client(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "10000/min", "account": "2/min"},
    }
    answers = [sign_up(f"t{n}@example.com", addr="10.20.30.40").status_code for n in range(3)]
    assert answers == [202, 202, 429]
    assert sign_up("other@example.com", addr="10.20.30.41").status_code == 202


def test_one_address_gets_a_limited_number_of_emails(db, settings):
    settings.ACCOUNT_EMAILS_PER_HOUR = 2
    make_user("victim@example.com")
    answers = {sign_up("victim@example.com").status_code for _ in range(4)}
    assert answers == {202}
    assert len(mails_to("victim@example.com")) == 2
