"""Email verification: a link to the address proves the account holds it.

Verifying accepts the tenant invitations waiting for that address. A user copied as
verified stays verified; nothing here ever unsets the flag.
"""

from __future__ import annotations

import copy

from django.db import transaction

from accounts.flows import emails, events, links, tenant_members
from accounts.flows.accounts import find_account
from accounts.models import User


class BadToken(Exception):
    """Wrong, expired or used token, or not for the account's current address."""


class AlreadyVerified(Exception):
    """The token was good, but the address is verified already."""


def send_verification(user: User) -> bool:
    """Mails ``user`` a verification link."""
    token = links.make(links.verification_tokens, user)
    return emails.send(
        emails.VERIFY,
        user.email,
        {"email": user.email, "link": links.link("verify-email", token)},
    )


def request_verification(email: str) -> None:
    """A new link for an active, unverified account; nothing otherwise, silently."""
    user = find_account(email)
    if user is None or not user.is_active or user.is_verified:
        return
    events.log_event(events.VERIFICATION_REQUESTED, user_id=user.pk)
    send_verification(user)


def verify(token: str) -> User:
    """Marks the token's account verified; BadToken or AlreadyVerified otherwise."""
    user, raw = links.account_of(token)
    if user is None or not user.is_active:
        raise BadToken()
    if user.is_verified:
        before = copy.copy(user)
        before.is_verified = False
        if links.verification_tokens.check_token(before, raw):
            raise AlreadyVerified()
        raise BadToken()
    if not links.verification_tokens.check_token(user, raw):
        raise BadToken()
    with transaction.atomic():
        # Only if the address is still the one the token was made for.
        done = User.objects.filter(pk=user.pk, email=user.email, is_verified=False).update(
            is_verified=True
        )
        if not done:
            raise BadToken()
        user.is_verified = True
        tenant_members.accept_invitations(user)
    events.log_event(events.VERIFIED, user_id=user.pk)
    return user
