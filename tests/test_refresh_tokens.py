"""A token does not outlive its password, its account, or its login's lifetime."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.utils import aware_utcnow, datetime_to_epoch

from accounts.models import User
from accounts.tokens import AUTH_TIME_CLAIM, RefreshToken, end_refresh_tokens_of
from tests.conftest import bcrypt_hash

PASSWORD = "correct horse battery"


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("ada@example.com", PASSWORD)


def login(user: User) -> dict[str, str]:
    response = APIClient().post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return APIClient().post("/api/auth/refresh", {"refresh": token}, format="json")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def as_jwt(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- a password change, by any path ------------------------------------------------------


def test_a_password_change_ends_the_refresh_token(user):
    tokens = login(user)
    user.set_password("a new password")
    user.save()
    assert refresh(tokens["refresh"]).status_code == 401


def test_a_password_change_ends_the_access_token(user):
    tokens = login(user)
    user.set_password("a new password")
    user.save()
    assert as_jwt(tokens["access"]).get("/api/me").status_code == 401


def test_a_password_changed_by_sql_ends_the_refresh_token(user):
    """--sync applies a legacy password with an UPDATE: no signal, no model method."""
    tokens = login(user)
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET password = %s WHERE id = %s",
            ["legacy_bcrypt$" + bcrypt_hash("changed in the old service"), user.pk],
        )
    assert refresh(tokens["refresh"]).status_code == 401


def test_every_device_is_ended_by_a_password_change(user):
    first, second = login(user), login(user)
    user.set_password("a new password")
    user.save(update_fields=["password"])
    assert refresh(first["refresh"]).status_code == 401
    assert refresh(second["refresh"]).status_code == 401


def test_a_new_login_after_the_change_works(user):
    login(user)
    user.set_password(PASSWORD)  # same words, new hash: still a change
    user.save()
    tokens = login(user)
    assert refresh(tokens["refresh"]).status_code == 200


def test_a_token_without_the_password_claim_is_refused(user):
    token = RefreshToken.for_user(user)
    del token[api_settings.REVOKE_TOKEN_CLAIM]
    assert refresh(str(token)).status_code == 401


# --- deactivation ------------------------------------------------------------------------


def test_deactivation_ends_the_refresh_token_for_good(user):
    tokens = login(user)
    user.is_active = False
    user.save()
    user.is_active = True
    user.save()
    assert refresh(tokens["refresh"]).status_code == 401


def test_a_deactivation_by_sql_is_not_undone_by_a_reactivation(user):
    tokens = login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert refresh(tokens["refresh"]).status_code == 401
    user.refresh_from_db()
    user.is_active = True
    user.save()
    assert refresh(tokens["refresh"]).status_code == 401


def test_end_refresh_tokens_of_for_code_without_the_orm(user):
    """What a deactivation by SQL calls (--sync): the tokens end even if it is undone."""
    other = User.objects.create_user("bob@example.com", PASSWORD)
    mine, theirs = login(user), login(other)
    assert end_refresh_tokens_of([user.pk]) == 1
    assert end_refresh_tokens_of([user.pk]) == 0
    assert refresh(mine["refresh"]).status_code == 401
    assert refresh(theirs["refresh"]).status_code == 200


def test_saving_other_fields_keeps_the_tokens(user):
    tokens = login(user)
    user.full_name = "Ada"
    user.save()
    assert refresh(tokens["refresh"]).status_code == 200


# --- log out everywhere ------------------------------------------------------------------


def test_logout_everywhere_ends_every_refresh_token(user):
    first, second = login(user), login(user)
    response = as_jwt(first["access"]).post("/api/auth/logout-all")
    assert response.status_code == 204
    assert refresh(first["refresh"]).status_code == 401
    assert refresh(second["refresh"]).status_code == 401
    # A rotated-out chain too: nothing outstanding is left.
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()


def test_logout_everywhere_needs_credentials(db):
    assert APIClient().post("/api/auth/logout-all").status_code == 401


# --- an absolute lifetime from the login ------------------------------------------------


def test_rotation_does_not_extend_the_login(user):
    tokens = login(user)
    first = claims(tokens["refresh"])
    rotated = refresh(tokens["refresh"]).json()["refresh"]
    second = claims(rotated)
    assert second[AUTH_TIME_CLAIM] == first[AUTH_TIME_CLAIM] == first["iat"]
    assert second["exp"] == first["exp"]
    assert refresh(rotated).status_code == 200


def test_a_login_older_than_the_lifetime_is_refused(user):
    """Even a token whose own exp is later (rotated in the last moment) stops at the login's."""
    lifetime = django_settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    token = RefreshToken.for_user(user)
    long_ago = datetime_to_epoch(aware_utcnow() - lifetime - timedelta(minutes=1))
    token[AUTH_TIME_CLAIM] = long_ago
    token["exp"] = datetime_to_epoch(aware_utcnow() + timedelta(days=1))
    assert refresh(str(token)).status_code == 401


def test_a_token_without_a_login_time_is_refused(user):
    token = RefreshToken.for_user(user)
    del token[AUTH_TIME_CLAIM]
    assert refresh(str(token)).status_code == 401


def test_the_last_rotation_before_the_end_expires_with_the_login(user):
    lifetime = django_settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    token = RefreshToken.for_user(user)
    started = datetime_to_epoch(aware_utcnow() - lifetime + timedelta(minutes=5))
    token[AUTH_TIME_CLAIM] = started
    response = refresh(str(token))
    assert response.status_code == 200
    assert claims(response.json()["refresh"])["exp"] == started + lifetime.total_seconds()
