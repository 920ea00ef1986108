"""The tokens mailed in links: password reset and email verification.

Both are Django's ``PasswordResetTokenGenerator`` tokens, prefixed with the account's id
(``<uid>.<token>``) so one string names the account and proves the mailbox:

- a reset token hashes the password, the last login and the address: it dies when the
  password changes (so it is good once), and expires after PASSWORD_RESET_TIMEOUT;
- a verification token hashes the address and whether it is verified: it verifies that
  address only, once, until EMAIL_VERIFICATION_TIMEOUT.

Each generator has its own salt, so neither kind of token passes for the other, and
a token checked against another account's id fails.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User

SEPARATOR = "."


class PasswordResetTokens(PasswordResetTokenGenerator):
    """Django's own reset tokens, under a salt of their own."""

    key_salt = "accounts.flows.links.PasswordResetTokens"


class VerificationTokens(PasswordResetTokenGenerator):
    """Tokens bound to an address and to its not being verified yet."""

    key_salt = "accounts.flows.links.VerificationTokens"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}|{(user.email or '').strip().lower()}|{user.is_verified}|{timestamp}"

    def check_token(self, user: Any, token: str | None) -> bool:
        """Django's check, with EMAIL_VERIFICATION_TIMEOUT for the age."""
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        timeout: int = settings.EMAIL_VERIFICATION_TIMEOUT
        return (self._num_seconds(self._now()) - ts) <= timeout


reset_tokens = PasswordResetTokens()
verification_tokens = VerificationTokens()


def make(generator: PasswordResetTokenGenerator, user: User) -> str:
    """``<uid>.<token>`` for ``user``."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}{SEPARATOR}{generator.make_token(user)}"


def account_of(value: Any) -> tuple[User | None, str]:
    """The account a ``<uid>.<token>`` names (None if none), and the token part."""
    if not isinstance(value, str) or SEPARATOR not in value or len(value) > 200:
        return None, ""
    uid, _, token = value.partition(SEPARATOR)
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None, ""
    if pk <= 0 or pk > 2**63 - 1:
        return None, ""
    return User.objects.filter(pk=pk).first(), token


def link(path: str, token: str) -> str:
    """The front end's page ``path`` with ``token`` in its query string."""
    return f"{settings.FRONTEND_URL}/{path}?token={token}"
