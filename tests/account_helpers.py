"""Helpers of the account-flow tests: users, logins and the links mailed to them."""

from __future__ import annotations

import re

from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 42"


def make_user(email: str, password: str = PASSWORD, verified: bool = True, **extra) -> User:
    return User.objects.create_user(email, password, is_verified=verified, **extra)


def client(addr: str | None = None) -> APIClient:
    """A client; ``addr`` is its address (throttles count per address)."""
    return APIClient(REMOTE_ADDR=addr) if addr else APIClient()


def login(email: str, password: str = PASSWORD):
    return APIClient().post(
        "/api/auth/login", {"email": email, "password": password}, format="json"
    )


def as_bearer(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def jwt_client(email: str, password: str = PASSWORD) -> APIClient:
    response = login(email, password)
    assert response.status_code == 200, response.content
    return as_bearer(response.json()["access"])


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def token_in(message: mail.EmailMessage, page: str) -> str:
    """The token of the link to the front end's ``page`` in an email (text and HTML agree)."""
    text = re.findall(rf"/{page}\?token=([A-Za-z0-9_.\-]+)", message.body)
    html = re.findall(rf"/{page}\?token=([A-Za-z0-9_.\-]+)", message.alternatives[0][0])
    assert text and text == html, (message.body, message.alternatives)
    return text[0]


def last_token(address: str, page: str) -> str:
    messages = mails_to(address)
    assert messages, f"no email to {address}"
    return token_in(messages[-1], page)
