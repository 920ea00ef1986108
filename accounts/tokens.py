"""Refresh tokens that end with the password and the account they were issued for.

A refresh token carries simplejwt's digest of the password hash (CHECK_REVOKE_TOKEN) and
the time of the password login (``auth_time``). It is refused once the password hash
differs, whatever changed it (the admin, the API, --sync's SQL UPDATE, a re-hash at
login), once the account is inactive or gone, and once its login is older than
REFRESH_TOKEN_LIFETIME: rotation hands on the login's time, so it never extends it.

Deactivating or reactivating an account through the ORM, and "log out everywhere",
blacklist every outstanding refresh token of the user (``end_refresh_tokens_of``), so
an account that comes back does not bring its old tokens with it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AuthUser
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken
from rest_framework_simplejwt.utils import aware_utcnow, datetime_to_epoch, get_md5_hash_password

if TYPE_CHECKING:
    from accounts.models import User

AUTH_TIME_CLAIM = "auth_time"
"""When the password login that began this chain of refresh tokens happened (epoch)."""


def credentials_digest(user: AbstractBaseUser) -> str:
    """The digest of the password hash a token of ``user`` must carry (simplejwt's)."""
    return get_md5_hash_password(user.password)


class RefreshToken(SimpleRefreshToken):
    """simplejwt's refresh token, bound to its login's time and its user's password."""

    @classmethod
    def for_user(cls, user: AuthUser) -> Self:
        # simplejwt builds ``cls(...)``; through super() mypy sees only its own class.
        token = cast(Self, super().for_user(user))
        token[AUTH_TIME_CLAIM] = token["iat"]
        return token

    def set_exp(
        self, claim: str = "exp", from_time: Any = None, lifetime: timedelta | None = None
    ) -> None:
        """As simplejwt, but a rotated token expires when its login's first token did."""
        super().set_exp(claim, from_time, lifetime)
        if claim == "exp" and AUTH_TIME_CLAIM in self.payload:
            self.payload["exp"] = min(self.payload["exp"], self._login_expiry())

    def _login_expiry(self) -> int:
        return int(self.payload[AUTH_TIME_CLAIM]) + int(self.lifetime.total_seconds())

    def verify(self, *args: Any, **kwargs: Any) -> None:
        """simplejwt's checks (signature, expiry, blacklist), then the login and the user."""
        super().verify(*args, **kwargs)
        if not isinstance(self.payload.get(AUTH_TIME_CLAIM), int):
            raise TokenError(_("Token has no login time; log in again."))
        if self._login_expiry() <= datetime_to_epoch(aware_utcnow()):
            raise TokenError(_("Login expired; log in again."))
        self.check_user()

    def check_user(self) -> None:
        """TokenError unless the user exists, is active and has the token's password."""
        user_model = get_user_model()
        user_id = self.payload.get(api_settings.USER_ID_CLAIM)
        user = user_model._default_manager.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise TokenError(_("No active account found for the given token."))
        carried = self.payload.get(api_settings.REVOKE_TOKEN_CLAIM)
        if not isinstance(carried, str) or not hmac.compare_digest(
            carried, credentials_digest(user)
        ):
            raise TokenError(_("The password changed since this login; log in again."))


def end_refresh_tokens_of(user_ids: Iterable[Any]) -> int:
    """Blacklists every outstanding refresh token of these users; returns how many.

    For "log out everywhere", and for code that deactivates users without the ORM
    (a password changed by SQL needs nothing: its tokens no longer match it).
    """
    ids = list(user_ids)
    if not ids:
        return 0
    outstanding = OutstandingToken.objects.filter(
        user_id__in=ids, expires_at__gt=aware_utcnow(), blacklistedtoken__isnull=True
    )
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding.only("pk").order_by()],
        ignore_conflicts=True,
    )
    return len(created)


def end_tokens_when_access_changes(
    sender: type[User],
    instance: User,
    raw: bool = False,
    using: str | None = None,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """pre_save of the user model: a change of ``is_active`` ends the user's refresh tokens.

    Either way: a deactivation ends them for good, and a reactivation ends any left from
    before a deactivation that bypassed the ORM.
    """
    if raw or instance.pk is None:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return  # a login's last_login or re-hash: no query
    before = (
        sender._default_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("is_active", flat=True)
        .first()
    )
    if before is not None and before != instance.is_active:
        end_refresh_tokens_of([instance.pk])


def connect_signals() -> None:
    """Called from AppConfig.ready()."""
    pre_save.connect(
        end_tokens_when_access_changes,
        sender=get_user_model(),
        dispatch_uid="accounts.tokens.end_tokens_when_access_changes",
    )
