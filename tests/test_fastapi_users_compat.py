"""/fu_auth/ answers as fastapi-users documents (docs/usage/routes.md, router/*.py):
the same bodies, status codes and error codes, so a service moves by its base URL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.api.authentication import generate_token
from accounts.models import ApiKey, User
from tests.account_helpers import NEW_PASSWORD, PASSWORD, as_bearer, last_token, login, make_user

USER_READ = {"id", "email", "is_active", "is_superuser", "is_verified"}


def post(path: str, body: dict, **kwargs):
    return APIClient().post(f"/fu_auth/{path}", body, format="json", **kwargs)


def fu_login(username: str, password: str = PASSWORD, addr: str = "127.0.0.1"):
    # OAuth2PasswordRequestForm: a form, not JSON.
    return APIClient(REMOTE_ADDR=addr).post(
        "/fu_auth/jwt/login",
        f"username={username}&password={password}".replace("@", "%40").replace(" ", "+"),
        content_type="application/x-www-form-urlencoded",
    )


# --- auth router --------------------------------------------------------------------------


def test_login_answers_a_bearer_token_that_works_everywhere(db):
    make_user("fu@example.com")
    response = fu_login("FU@example.com")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type"} and body["token_type"] == "bearer"
    api = as_bearer(body["access_token"])
    assert api.get("/fu_auth/users/me").json()["email"] == "fu@example.com"
    assert api.get("/api/me").status_code == 200


@pytest.mark.parametrize("who", ["wrong-password", "unknown", "inactive"])
def test_bad_credentials_or_an_inactive_user_is_login_bad_credentials(db, who):
    make_user("in@example.com")
    make_user("off@example.com", is_active=False)
    username, password = {
        "wrong-password": ("in@example.com", "nope"),
        "unknown": ("nobody@example.com", PASSWORD),
        "inactive": ("off@example.com", PASSWORD),
    }[who]
    response = fu_login(username, password)
    assert (response.status_code, response.json()) == (400, {"detail": "LOGIN_BAD_CREDENTIALS"})


def test_login_without_its_fields_is_a_422(db):
    response = APIClient().post(
        "/fu_auth/jwt/login", "username=a%40b.c", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "password"] and error["type"] == "missing"


def test_login_counts_toward_the_lockout(db, settings):
    settings.AXES_FAILURE_LIMIT = 2
    make_user("lock@example.com")
    codes = [fu_login("lock@example.com", "nope", "10.77.0.1").status_code for _ in range(3)]
    assert codes[0] == 400 and codes[-1] == 429
    assert fu_login("lock@example.com", PASSWORD, "10.77.0.2").status_code == 429


def test_logout_is_204_and_ends_the_token(db):
    make_user("out@example.com")
    api = as_bearer(fu_login("out@example.com").json()["access_token"])
    assert api.post("/fu_auth/jwt/logout").status_code == 204
    assert api.get("/fu_auth/users/me").status_code == 401
    assert api.get("/api/me").status_code == 401


def test_logout_without_a_token_is_401(db):
    assert APIClient().post("/fu_auth/jwt/logout").status_code == 401


# --- register router ----------------------------------------------------------------------


def test_register_is_201_with_the_user_unverified_whatever_the_body_says(db):
    response = post(
        "register",
        {
            "email": "reg@example.com",
            "password": PASSWORD,
            "is_active": False,
            "is_superuser": True,
            "is_verified": True,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_READ
    assert (body["is_active"], body["is_superuser"], body["is_verified"]) == (True, False, False)
    user = User.objects.get(email="reg@example.com")
    assert (user.is_superuser, user.is_staff, user.is_verified) == (False, False, False)
    assert last_token("reg@example.com", "verify-email")


@pytest.mark.parametrize("typed", ["taken@example.com", "TAKEN@example.com", " taken@example.com"])
def test_register_an_existing_address_is_register_user_already_exists(db, typed):
    user = make_user("taken@example.com")
    before = user.password
    response = post("register", {"email": typed, "password": "another passphrase 12"})
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "REGISTER_USER_ALREADY_EXISTS"},
    )
    user.refresh_from_db()
    assert user.password == before
    assert User.objects.count() == 1


def test_register_for_a_copied_legacy_user_changes_nothing(legacy):
    legacy.user("old@example.com", "legacy-password")
    call_command("migrate_legacy_users", stdout=StringIO(), stderr=StringIO())
    copied = User.objects.get(email__iexact="old@example.com")
    response = post("register", {"email": "Old@Example.com", "password": "takeover pass 99"})
    assert response.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}
    assert User.objects.filter(email__iexact="old@example.com").get().password == copied.password
    assert login("old@example.com", "legacy-password").status_code == 200


def test_register_a_weak_password_is_register_invalid_password(db):
    response = post("register", {"email": "weak@example.com", "password": "123"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail["code"] == "REGISTER_INVALID_PASSWORD" and detail["reason"]


@pytest.mark.parametrize("body", [{"email": "nope", "password": PASSWORD}, {"email": "a@b.co"}])
def test_register_an_invalid_body_is_422(db, body):
    response = post("register", body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_register_closed_is_403(db, settings):
    settings.REGISTRATION_OPEN = False
    assert post("register", {"email": "x@example.com", "password": PASSWORD}).status_code == 403


# --- reset password router ----------------------------------------------------------------


def test_forgot_password_is_202_null_for_any_address(db):
    make_user("known@example.com")
    for address in ("known@example.com", "unknown@example.com"):
        response = post("forgot-password", {"email": address})
        assert (response.status_code, response.content) == (202, b"null")
    assert [m.to for m in mail.outbox] == [["known@example.com"]]
    assert post("forgot-password", {"email": "not an address"}).status_code == 422


def test_reset_password_is_200_null_once(db):
    make_user("reset@example.com")
    post("forgot-password", {"email": "reset@example.com"})
    token = last_token("reset@example.com", "reset-password")
    response = post("reset-password", {"token": token, "password": NEW_PASSWORD})
    assert (response.status_code, response.content) == (200, b"null")
    again = post("reset-password", {"token": token, "password": "third passphrase 3"})
    assert (again.status_code, again.json()) == (400, {"detail": "RESET_PASSWORD_BAD_TOKEN"})
    assert fu_login("reset@example.com", NEW_PASSWORD).status_code == 200


def test_reset_password_weak_is_reset_password_invalid_password(db):
    make_user("rw@example.com")
    post("forgot-password", {"email": "rw@example.com"})
    token = last_token("rw@example.com", "reset-password")
    response = post("reset-password", {"token": token, "password": "1"})
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "RESET_PASSWORD_INVALID_PASSWORD"


def test_reset_password_bad_token(db):
    response = post("reset-password", {"token": "nonsense", "password": NEW_PASSWORD})
    assert (response.status_code, response.json()) == (400, {"detail": "RESET_PASSWORD_BAD_TOKEN"})


# --- verify router ------------------------------------------------------------------------


def test_request_verify_token_and_verify(db):
    make_user("ver@example.com", verified=False)
    response = post("request-verify-token", {"email": "ver@example.com"})
    assert (response.status_code, response.content) == (202, b"null")
    token = last_token("ver@example.com", "verify-email")

    verified = post("verify", {"token": token})
    assert verified.status_code == 200
    assert set(verified.json()) == USER_READ and verified.json()["is_verified"] is True
    again = post("verify", {"token": token})
    assert (again.status_code, again.json()) == (400, {"detail": "VERIFY_USER_ALREADY_VERIFIED"})


def test_verify_bad_token(db):
    response = post("verify", {"token": "garbage"})
    assert (response.status_code, response.json()) == (400, {"detail": "VERIFY_USER_BAD_TOKEN"})
    assert post("verify", {}).status_code == 422


def test_request_verify_token_is_202_for_anyone(db):
    make_user("done@example.com")
    for address in ("done@example.com", "nobody@example.com"):
        assert post("request-verify-token", {"email": address}).status_code == 202
    assert mail.outbox == []


# --- users router -------------------------------------------------------------------------


def test_users_me(db):
    user = make_user("me@example.com")
    api = as_bearer(fu_login("me@example.com").json()["access_token"])
    response = api.get("/fu_auth/users/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": "me@example.com",
        "is_active": True,
        "is_superuser": False,
        "is_verified": True,
    }
    assert APIClient().get("/fu_auth/users/me").status_code == 401


def test_patch_me_sets_a_password_and_ignores_the_flags(db):
    make_user("p@example.com")
    api = as_bearer(fu_login("p@example.com").json()["access_token"])
    response = api.patch(
        "/fu_auth/users/me",
        {"password": NEW_PASSWORD, "is_superuser": True, "is_active": False, "is_verified": False},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["is_superuser"], body["is_active"], body["is_verified"]) == (False, True, True)
    assert fu_login("p@example.com", NEW_PASSWORD).status_code == 200
    assert api.get("/fu_auth/users/me").status_code == 401  # the old token's password is gone


def test_patch_me_weak_password_and_another_address(db):
    make_user("q@example.com")
    api = as_bearer(fu_login("q@example.com").json()["access_token"])
    weak = api.patch("/fu_auth/users/me", {"password": "1"}, format="json")
    assert weak.status_code == 400
    assert weak.json()["detail"]["code"] == "UPDATE_USER_INVALID_PASSWORD"
    moved = api.patch("/fu_auth/users/me", {"email": "else@example.com"}, format="json")
    assert moved.status_code == 400
    assert User.objects.filter(email="q@example.com").exists()
    same = api.patch("/fu_auth/users/me", {"email": "Q@example.com"}, format="json")
    assert same.status_code == 200


def test_patch_me_password_never_with_an_api_key(db):
    user = make_user("key@example.com")
    token, prefix, digest = generate_token()
    ApiKey.objects.create(user=user, name="k", prefix=prefix, digest=digest)
    response = as_bearer(token).patch(
        "/fu_auth/users/me", {"password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
