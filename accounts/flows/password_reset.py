"""Forgotten, reset and changed passwords: each ends every login made with the old one.

A reset proves the mailbox: an account that had never verified its address becomes
verified, and if it was made by sign-up (not copied), the API keys made while nobody
had proven the address are revoked, since whoever signed up may not be the owner
(pre-account hijacking). A changed password (old one required, counted by the login
lockout) mails the address a notice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from accounts import tokens
from accounts.flows import emails, events, links, tenant_members
from accounts.flows.accounts import find_account
from accounts.flows.signup import check_password
from accounts.models import ApiKey, User


class BadToken(Exception):
    """Wrong, expired or used reset token, or an inactive account."""


class WrongPassword(Exception):
    """The old password given to a change is not the account's."""


def request_reset(email: str) -> None:
    """Mails an active account a reset link; nothing otherwise, silently."""
    user = find_account(email)
    if user is None or not user.is_active:
        events.log_event(events.PASSWORD_RESET_REQUESTED, user_id=None)
        return
    events.log_event(events.PASSWORD_RESET_REQUESTED, user_id=user.pk)
    token = links.make(links.reset_tokens, user)
    emails.send(
        emails.RESET,
        user.email,
        {"email": user.email, "link": links.link("reset-password", token)},
    )


def check_reset_token(token: str) -> User:
    """The account a reset token is good for; BadToken otherwise."""
    user, raw = links.account_of(token)
    if user is None or not user.is_active or not links.reset_tokens.check_token(user, raw):
        raise BadToken()
    return user


def reset(token: str, password: str) -> User:
    """Sets a new password with a reset token (good once); BadToken, or ValidationError."""
    user = check_reset_token(token)
    check_password(password, user.email, user.full_name)
    with transaction.atomic():
        # The token hashes the password: locked, a second use of it sees the new one.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not links.reset_tokens.check_token(locked, links.account_of(token)[1]):
            raise BadToken()
        set_password(locked, password, mailbox_proven=True)
    events.log_event(events.PASSWORD_RESET, user_id=user.pk)
    return locked


def change(request: Any, user: User, old_password: str, new_password: str) -> None:
    """The logged-in user's new password, given the old one; WrongPassword, or
    ValidationError. The old one is checked by authenticate(), so wrong guesses count
    toward the account's lockout like failed logins."""
    if authenticate(request, username=user.email, password=old_password) is None:
        raise WrongPassword()
    check_password(new_password, user.email, user.full_name)
    with transaction.atomic():
        set_password(User.objects.select_for_update().get(pk=user.pk), new_password)
    events.log_event(events.PASSWORD_CHANGED, user_id=user.pk)
    notify_changed(user)


def notify_changed(user: User) -> None:
    """Tells the address its password changed, with a way back if it was not them."""
    emails.send(
        emails.PASSWORD_CHANGED,
        user.email,
        {"email": user.email, "link": f"{settings.FRONTEND_URL}/forgot-password"},
    )


def set_password(user: User, password: str, *, mailbox_proven: bool = False) -> None:
    """Saves ``password`` and ends every refresh token of ``user`` (in a transaction).

    Access tokens end by themselves: each carries a digest of the old password hash.
    """
    user.set_password(password)
    fields = ["password"]
    if mailbox_proven and not user.is_verified:
        user.is_verified = True
        fields.append("is_verified")
        if user.legacy_source is None:
            ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(
                is_active=False, revoked_at=timezone.now()
            )
    user.save(update_fields=fields)
    tokens.end_refresh_tokens_of([user.pk])
    if "is_verified" in fields:
        tenant_members.accept_invitations(user)
