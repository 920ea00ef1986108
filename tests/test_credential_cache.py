"""The shared cache (Redis in the tests, as in production): throttles and logged-out
tokens live there; nothing about a credential outlives the credential."""

from __future__ import annotations

import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.api import jwt
from accounts.api.authentication import generate_token
from accounts.models import ApiKey, User
from tests.account_helpers import as_bearer, jwt_client, login, make_user


def test_the_tests_use_the_real_redis_server():
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("ping", "pong", 5)
    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    assert server.get(cache.make_key("ping")) is not None


def key_for(user: User) -> tuple[str, ApiKey]:
    token, prefix, digest = generate_token()
    return token, ApiKey.objects.create(user=user, name="k", prefix=prefix, digest=digest)


def test_a_revoked_key_is_refused_at_once(db):
    user = make_user("rk@example.com")
    token, key = key_for(user)
    api = as_bearer(token)
    assert api.get("/api/me").status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now(), is_active=False)
    assert api.get("/api/me").status_code == 401


def test_a_held_key_never_authenticates(db):
    user = make_user("held@example.com")
    token, key = key_for(user)
    ApiKey.objects.filter(pk=key.pk).update(held=True)
    assert as_bearer(token).get("/api/me").status_code == 401


def test_a_deactivated_user_is_refused_at_once_with_a_key_or_a_jwt(db):
    user = make_user("gone@example.com")
    token, _key = key_for(user)
    key_api, jwt_api = as_bearer(token), jwt_client("gone@example.com")
    assert key_api.get("/api/me").status_code == jwt_api.get("/api/me").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)  # by SQL: no signal
    assert key_api.get("/api/me").status_code == 401
    assert jwt_api.get("/api/me").status_code == 401
    assert jwt_api.get("/fu_auth/users/me").status_code == 401


def test_a_logged_out_token_is_kept_in_the_cache_only_as_long_as_it_lives(db):
    make_user("ttl@example.com")
    access = login("ttl@example.com").json()["access"]
    token = AccessToken(access)
    assert as_bearer(access).post("/fu_auth/jwt/logout").status_code == 204
    assert jwt.is_ended(token)
    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    ttl = server.ttl(cache.make_key(f"{jwt.ENDED_PREFIX}{token['jti']}"))
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert 0 < ttl <= lifetime + 1


def test_an_expired_token_leaves_nothing_in_the_cache(db):
    user = make_user("old@example.com")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"])
    jwt.end_access_token(token)
    assert cache.get(f"{jwt.ENDED_PREFIX}{token['jti']}") is None


def test_throttle_counts_are_in_the_shared_cache(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "10000/min", "account": "1/min"},
    }
    from rest_framework.test import APIClient

    api = APIClient(REMOTE_ADDR="10.55.0.9")
    api.post("/api/auth/password/forgot", {"email": "a@example.com"}, format="json")
    assert cache.get("throttle_account_10.55.0.9")
    second = api.post("/api/auth/password/forgot", {"email": "a@example.com"}, format="json")
    assert second.status_code == 429
