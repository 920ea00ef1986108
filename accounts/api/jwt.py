"""Access tokens that a logout ends at once, through the shared cache.

A fastapi-users style logout (``/fu_auth/jwt/logout``) has only an access token to end.
Its ``jti`` is put in the cache until the token would have expired anyway: the entry
lives exactly as long as the credential it is about, and every process sees it.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow, datetime_to_epoch

ENDED_PREFIX = "jwt-ended:"


def _cache_key(jti: str) -> str:
    return f"{ENDED_PREFIX}{jti}"


def end_access_token(token: Token) -> None:
    """Refuses ``token`` from now until its expiry."""
    jti = token.get("jti")
    if not jti:
        return
    remaining = int(token["exp"]) - datetime_to_epoch(aware_utcnow())
    if remaining > 0:
        cache.set(_cache_key(str(jti)), True, timeout=remaining + 1)


def is_ended(token: Token) -> bool:
    """True once ``end_access_token`` was called for this token."""
    jti = token.get("jti")
    return bool(jti) and cache.get(_cache_key(str(jti))) is not None


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's JWT authentication, refusing an access token that was logged out."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)
        if is_ended(token):
            raise InvalidToken(_("This token was logged out."))
        return token


# drf-spectacular registers extensions in an unannotated __init_subclass__.
class JWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    """The OpenAPI description of the class above: simplejwt's own."""

    # A dotted path, as the base class names its target; drf-spectacular imports it.
    target_class = "accounts.api.jwt.JWTAuthentication"
    name = "jwtAuth"
