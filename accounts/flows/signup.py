"""Sign-up with an address and a password: a new, unverified account, never more.

``register`` is fastapi-users' register: it says when the address has an account, as
that API documents. ``sign_up`` is the API's own: it answers the same whether or not
the address has an account, and mails the address either a verification link or a
note that it already has one. Neither ever touches an existing account (a copied
legacy user keeps its password), and neither can make staff, a superuser or a
verified address: only the address, the password and a name are taken.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.flows import emails, events, verification
from accounts.flows.accounts import find_account
from accounts.models import User
from authcore.lib.emails import email_problem, trim


class RegistrationClosed(Exception):
    """REGISTRATION_OPEN is off."""


class AlreadyExists(Exception):
    """The address has an account."""


def check_address(email: str) -> str:
    """The trimmed address; ValidationError if it could not identify a person."""
    if email_problem(email) is not None:
        raise ValidationError("Enter a valid email address.", code="invalid_email")
    return trim(email)


def check_password(password: str, email: str, full_name: str | None = None) -> None:
    """Django's password validators, against the would-be account's own details."""
    password_validation.validate_password(password, User(email=email, full_name=full_name))


def register(email: str, password: str, full_name: str | None = None) -> User:
    """A new unverified account, with a verification email; AlreadyExists if taken."""
    if not settings.REGISTRATION_OPEN:
        raise RegistrationClosed()
    address = check_address(email)
    check_password(password, address, full_name)
    if find_account(address) is not None:
        raise AlreadyExists()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                address, password, full_name=full_name or None, is_verified=False
            )
    except IntegrityError as exc:  # the same address signed up at the same moment
        raise AlreadyExists() from exc
    events.log_event(events.SIGNED_UP, user_id=user.pk)
    verification.send_verification(user)
    return user


def sign_up(email: str, password: str, full_name: str | None = None) -> None:
    """Like ``register``, but the answer never tells whether the address had an account."""
    try:
        register(email, password, full_name)
    except AlreadyExists:
        make_password(password)  # the cost of the new account's hash, in both answers
        account = find_account(email)
        if account is None:
            return
        events.log_event(events.SIGN_UP_EXISTING, user_id=account.pk)
        emails.send(
            emails.ALREADY_REGISTERED,
            account.email,
            {"email": account.email, "link": f"{settings.FRONTEND_URL}/forgot-password"},
        )
