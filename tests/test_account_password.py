"""Forgotten, reset and changed passwords; the person's own names (PATCH /api/me)."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.api.authentication import generate_token
from accounts.flows import links
from accounts.models import ApiKey, User
from tests.account_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    as_bearer,
    client,
    jwt_client,
    last_token,
    login,
    mails_to,
    make_user,
)

FORGOT = "/api/auth/password/forgot"
RESET = "/api/auth/password/reset"
CHANGE = "/api/auth/password/change"


def forgot(email: str):
    return client().post(FORGOT, {"email": email}, format="json")


def reset(token: str, password: str = NEW_PASSWORD):
    return client().post(RESET, {"token": token, "new_password": password}, format="json")


def test_forgot_and_reset_end_every_login_made_with_the_old_password(db, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    user = make_user("r@example.com")
    tokens = login("r@example.com").json()

    assert forgot(" R@EXAMPLE.com").status_code == 202
    [message] = mails_to("r@example.com")
    assert "https://app.example.com/reset-password?token=" in message.body
    assert reset(last_token("r@example.com", "reset-password")).status_code == 200

    assert login("r@example.com").status_code == 401
    assert login("r@example.com", NEW_PASSWORD).status_code == 200
    assert as_bearer(tokens["access"]).get("/api/me").status_code == 401
    refreshed = client().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 401
    outstanding = OutstandingToken.objects.filter(user=user).count()
    assert BlacklistedToken.objects.filter(token__user=user).count() == outstanding - 1


def test_the_answer_never_says_whether_the_address_exists(db):
    make_user("here@example.com")
    known, unknown = forgot("here@example.com"), forgot("nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [["here@example.com"]]


def test_a_reset_token_is_good_once(db):
    make_user("once@example.com")
    forgot("once@example.com")
    token = last_token("once@example.com", "reset-password")
    assert reset(token).status_code == 200
    assert reset(token, "yet another passphrase 3").status_code == 400
    assert login("once@example.com", NEW_PASSWORD).status_code == 200


def test_a_reset_token_expires(db, settings):
    make_user("slow@example.com")
    forgot("slow@example.com")
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert reset(last_token("slow@example.com", "reset-password")).status_code == 400


def test_one_users_reset_token_never_works_for_another(db):
    make_user("alice@example.com")
    bob = make_user("bob@example.com")
    forgot("alice@example.com")
    token = last_token("alice@example.com", "reset-password")
    bob_uid = links.make(links.reset_tokens, bob).split(".")[0]

    assert reset(f"{bob_uid}.{token.split('.')[1]}").status_code == 400
    assert login("bob@example.com").status_code == 200


def test_a_reset_token_dies_when_the_password_changes(db):
    make_user("moved@example.com")
    forgot("moved@example.com")
    token = last_token("moved@example.com", "reset-password")
    api = jwt_client("moved@example.com")
    changed = api.post(
        CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert changed.status_code == 204
    assert reset(token, "attacker chosen passphrase").status_code == 400


def test_a_weak_new_password_keeps_the_token_good(db):
    make_user("weak@example.com")
    forgot("weak@example.com")
    token = last_token("weak@example.com", "reset-password")
    response = reset(token, "password")
    assert response.status_code == 400 and "new_password" in response.json()
    assert reset(token).status_code == 200


def test_an_inactive_account_gets_no_reset(db):
    make_user("off@example.com", is_active=False)
    assert forgot("off@example.com").status_code == 202
    assert mail.outbox == []


def test_a_reset_proves_the_mailbox_of_a_squatted_sign_up(db):
    """Pre-account hijacking: someone signs up with another's address and makes a key;
    the owner's reset verifies the account and ends whatever the squatter made."""
    client().post("/api/auth/signup", {"email": "owner@example.com", "password": PASSWORD})
    squatter = jwt_client("owner@example.com")
    created = squatter.post("/api/keys", {"name": "mine"}, format="json")
    assert created.status_code == 201
    key_token = created.json()["token"]

    forgot("owner@example.com")
    assert reset(last_token("owner@example.com", "reset-password")).status_code == 200

    user = User.objects.get(email="owner@example.com")
    assert user.is_verified
    assert as_bearer(key_token).get("/api/me").status_code == 401
    assert squatter.get("/api/me").status_code == 401


def test_a_copied_unverified_users_keys_survive_a_reset(db):
    user = make_user("copied@example.com", verified=False, legacy_source="auth_service")
    token, prefix, digest = generate_token()
    ApiKey.objects.create(user=user, name="old", prefix=prefix, digest=digest)
    forgot("copied@example.com")
    assert reset(last_token("copied@example.com", "reset-password")).status_code == 200
    assert as_bearer(token).get("/api/me").status_code == 200


# --- change -------------------------------------------------------------------------------


def test_change_needs_a_login(db):
    response = client().post(
        CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 401


def test_change_needs_the_old_password_and_ends_every_login(db):
    make_user("c@example.com")
    other_device = login("c@example.com").json()
    api = jwt_client("c@example.com")

    wrong = api.post(CHANGE, {"old_password": "nope", "new_password": NEW_PASSWORD}, format="json")
    assert wrong.status_code == 400 and "old_password" in wrong.json()
    ok = api.post(CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert ok.status_code == 204

    assert api.get("/api/me").status_code == 401
    refresh = client().post(
        "/api/auth/refresh", {"refresh": other_device["refresh"]}, format="json"
    )
    assert refresh.status_code == 401
    assert login("c@example.com", NEW_PASSWORD).status_code == 200
    [notice] = mails_to("c@example.com")
    assert "was just changed" in notice.body


def test_wrong_old_passwords_count_toward_the_lockout(db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("guess@example.com")
    api = jwt_client("guess@example.com")
    api.defaults["REMOTE_ADDR"] = "10.66.0.1"
    codes = [
        api.post(
            CHANGE, {"old_password": f"g{n}", "new_password": NEW_PASSWORD}, format="json"
        ).status_code
        for n in range(4)
    ]
    assert codes[:2] == [400, 400] and codes[-1] == 429
    assert (
        api.post(
            CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
        ).status_code
        == 429
    )


def test_a_read_key_cannot_change_the_password(db):
    user = make_user("k@example.com")
    token, prefix, digest = generate_token()
    ApiKey.objects.create(user=user, name="r", prefix=prefix, digest=digest, scopes="read")
    response = as_bearer(token).post(
        CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 403


# --- PATCH /api/me ------------------------------------------------------------------------


def test_patch_me_changes_the_names_only(db):
    user = make_user("me@example.com", full_name="Old", username="old")
    api = jwt_client("me@example.com")
    response = api.patch(
        "/api/me",
        {
            "full_name": "New Name",
            "username": "newname",
            "email": "evil@example.com",
            "is_staff": True,
            "is_superuser": True,
            "is_verified": False,
            "password": "hijacked",
            "groups": ["admins"],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    user.refresh_from_db()
    assert (user.full_name, user.username, user.email) == ("New Name", "newname", "me@example.com")
    assert (user.is_staff, user.is_superuser, user.is_verified) == (False, False, True)
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("scopes,code", [("read", 403), ("write", 200)])
def test_patch_me_with_a_key_needs_write(db, scopes, code):
    user = make_user("w@example.com")
    token, prefix, digest = generate_token()
    ApiKey.objects.create(user=user, name="k", prefix=prefix, digest=digest, scopes=scopes)
    assert as_bearer(token).patch("/api/me", {"full_name": "X"}, format="json").status_code == code
