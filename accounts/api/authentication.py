"""``Authorization: Bearer <api key>``, next to simplejwt's JWTs on the same header.

Only the sha256 digest of a key is stored (the legacy services stored the same digest,
so copied keys keep working); the token itself is never stored or logged.

A key is good only for the requests its scopes allow (``accounts.api.scopes``). That is
checked here, where every key passes, rather than in a permission class: a view that sets
its own ``permission_classes`` replaces the defaults, and would silently drop the check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.api import scopes
from accounts.flows import events
from accounts.models import ApiKey, User

KEYWORD = "Bearer"
# Tokens from secrets.token_urlsafe(32), as the auth service made them: 43 characters.
TOKEN_BYTES = 32
PREFIX_LENGTH = 8
# last_used_at is written at most once per this interval and key (see authenticate_key).
LAST_USED_RESOLUTION = timedelta(minutes=5)
# header.payload.signature, each part base64url: what JWTAuthentication should judge.
JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def token_digest(token: str) -> str:
    """The sha256 hex digest that stands for ``token`` in the database."""
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> tuple[str, str, str]:
    """A new random token with its (prefix, digest); only the token's owner sees it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token[:PREFIX_LENGTH], token_digest(token)


def looks_like_jwt(token: str) -> bool:
    """True for three dot-separated base64url parts: such tokens go on to the JWT class."""
    return JWT_SHAPE.match(token) is not None


def find_key(token: str) -> ApiKey | None:
    """The key whose digest is ``token``'s, with its user, or None.

    The lookup is by the unique digest; ``compare_digest`` then re-checks it in constant
    time so no database collation or index quirk can make a near-miss count.
    """
    digest = token_digest(token)
    key = ApiKey.objects.select_related("user").filter(digest=digest).first()
    if key is None or not hmac.compare_digest(key.digest, digest):
        return None
    return key


def authenticate_key(key: ApiKey) -> User:
    """The key's user if the key may be used now; AuthenticationFailed otherwise.

    ``last_used_at`` is informational (which keys are still used), so it is written at
    most once per LAST_USED_RESOLUTION: a write on every request would turn each read
    into a write and make concurrent requests with one key contend for its row. The
    conditional UPDATE also keeps two simultaneous requests from both writing.
    """
    now = timezone.now()
    if not key.is_active or key.revoked_at is not None:
        raise exceptions.AuthenticationFailed(_("API key inactive or revoked."))
    if key.held:
        raise exceptions.AuthenticationFailed(_("API key held until its account is reviewed."))
    if key.expires_at is not None and key.expires_at <= now:
        raise exceptions.AuthenticationFailed(_("API key expired."))
    if not key.user.is_active:
        raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
    stale = now - LAST_USED_RESOLUTION
    if key.last_used_at is None or key.last_used_at < stale:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key.user


def check_scopes(key: ApiKey, request: Request) -> None:
    """PermissionDenied (403) unless the key's scopes allow this method on this route."""
    match = getattr(request, "resolver_match", None)
    route = match.url_name if match is not None else None
    granted = scopes.parse(key.scopes)
    method = request.method
    if method is None:  # Django sets it on every request a view is given
        raise exceptions.PermissionDenied()
    if scopes.allows(granted, method, route):
        return
    need = scopes.needed(method, route)
    raise exceptions.PermissionDenied(
        _("This API key's scopes do not allow %(method)s here; it needs the %(scope)s scope.")
        % {"method": request.method, "scope": need}
    )


class BearerApiKeyAuthentication(BaseAuthentication):
    """API keys sent as ``Authorization: Bearer <token>``.

    A JWT-shaped token that is not a key is left to JWTAuthentication (returns None); any
    other unknown token is refused here, so a mistyped key gets a 401 that says so.
    """

    keyword = KEYWORD

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        token = self.get_token(request)
        if token is None:
            return None
        key = find_key(token)
        if key is None:
            if looks_like_jwt(token):
                return None
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = authenticate_key(key)
        check_scopes(key, request)
        events.log_event(events.API_KEY_USED, key_id=key.pk, user_id=user.pk)
        return user, key

    def get_token(self, request: Request) -> str | None:
        """The token of a Bearer header; None for another scheme or no header."""
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) == 1:
            raise exceptions.AuthenticationFailed(_("Invalid token header. No token provided."))
        if len(auth) > 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header. Token string should not contain spaces.")
            )
        try:
            return auth[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header. Token string should not contain invalid characters.")
            ) from exc

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 rather than 403.
        return self.keyword


# drf-spectacular registers extensions in an unannotated __init_subclass__.
class BearerApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes API keys in the OpenAPI schema (drf-spectacular cannot guess it)."""

    target_class = BearerApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix=KEYWORD
        )
