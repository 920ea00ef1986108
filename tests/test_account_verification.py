"""Email verification: a token verifies one address of one account, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.flows import links
from accounts.models import User
from tests.account_helpers import PASSWORD, client, last_token, mails_to, make_user

VERIFY = "/api/auth/verify"
REQUEST = "/api/auth/verify/request"


def sign_up(email: str):
    response = client().post(
        "/api/auth/signup", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 202
    return User.objects.get(email=email)


def verify(token: str):
    return client().post(VERIFY, {"token": token}, format="json")


def test_the_link_verifies_the_address_once(db):
    user = sign_up("v@example.com")
    token = last_token("v@example.com", "verify-email")

    assert verify(token).status_code == 200
    user.refresh_from_db()
    assert user.is_verified
    again = verify(token)
    assert again.status_code == 400
    assert "verified already" in again.json()["detail"]


def test_a_token_names_its_account_another_account_id_fails(db):
    sign_up("a@example.com")
    b = sign_up("b@example.com")
    token = last_token("a@example.com", "verify-email")
    forged = f"{links.make(links.verification_tokens, b).split('.')[0]}.{token.split('.')[1]}"

    assert verify(forged).status_code == 400
    b.refresh_from_db()
    assert not b.is_verified


def test_a_token_is_for_the_address_it_was_sent_to(db):
    user = sign_up("before@example.com")
    token = last_token("before@example.com", "verify-email")
    User.objects.filter(pk=user.pk).update(email="after@example.com")

    assert verify(token).status_code == 400
    user.refresh_from_db()
    assert not user.is_verified


def test_a_reset_token_does_not_verify_and_a_verification_token_does_not_reset(db):
    user = sign_up("kinds@example.com")
    reset_token = links.make(links.reset_tokens, user)
    verify_token = last_token("kinds@example.com", "verify-email")

    assert verify(reset_token).status_code == 400
    response = client().post(
        "/api/auth/password/reset",
        {"token": verify_token, "new_password": "nobody should set this 1"},
        format="json",
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.is_verified


def test_an_expired_token_fails(db, settings):
    sign_up("late@example.com")
    token = last_token("late@example.com", "verify-email")
    settings.EMAIL_VERIFICATION_TIMEOUT = -1
    assert verify(token).status_code == 400


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "x.y", "MQ.zzz-zzz", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5.1-2", "..", "a" * 300],
)
def test_malformed_tokens_are_a_400(db, token):
    assert verify(token).status_code == 400


def test_an_inactive_account_cannot_verify(db):
    user = sign_up("off@example.com")
    token = last_token("off@example.com", "verify-email")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert verify(token).status_code == 400


def test_asking_again_mails_only_an_unverified_active_account(db):
    sign_up("again@example.com")
    make_user("done@example.com", verified=True)
    make_user("off@example.com", verified=False, is_active=False)
    mail.outbox.clear()

    answers = [
        client().post(REQUEST, {"email": address}, format="json")
        for address in ("AGAIN@example.com ", "done@example.com", "off@example.com", "no@ne.com")
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert [m.to for m in mail.outbox] == [["again@example.com"]]
    assert verify(last_token("again@example.com", "verify-email")).status_code == 200


def test_a_user_copied_as_verified_stays_verified(legacy):
    legacy.insert(
        "fu_users",
        id="3d8a5d6e-3f9b-4a55-9a4c-222222222222",
        email="kept@example.com",
        hashed_password="$2b$04$" + "y" * 53,
        is_verified=True,
    )
    call_command("migrate_legacy_users", stdout=StringIO(), stderr=StringIO())
    user = User.objects.get(email__iexact="kept@example.com")
    assert user.is_verified

    client().post(REQUEST, {"email": "kept@example.com"}, format="json")
    verify("garbage.token")
    client().post("/api/auth/signup", {"email": "kept@example.com", "password": PASSWORD})
    client().post("/fu_auth/request-verify-token", {"email": "kept@example.com"}, format="json")

    user.refresh_from_db()
    assert user.is_verified
    assert not [m for m in mails_to("kept@example.com") if "verify-email" in m.body]
