"""One person's whole journey against a live server over plain HTTP: sign up, verify from
the email, forget the password, reset it from the email, and reach /api/me."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.core import mail

from tests.account_helpers import NEW_PASSWORD, PASSWORD, last_token


def call(base: str, method: str, path: str, body: dict | None = None, token: str = ""):
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local)
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_sign_up_verify_forget_reset_and_reach_me(live_server, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    base = live_server.url
    assert base.startswith("http://")
    email = "journey@example.com"

    status, _ = call(base, "POST", "/api/auth/signup", {"email": email, "password": PASSWORD})
    assert status == 202
    assert "https://app.example.com/verify-email?token=" in mail.outbox[-1].body
    status, _ = call(base, "POST", "/api/auth/verify", {"token": last_token(email, "verify-email")})
    assert status == 200

    status, _ = call(base, "POST", "/api/auth/password/forgot", {"email": email.upper()})
    assert status == 202
    token = last_token(email, "reset-password")
    status, _ = call(
        base, "POST", "/api/auth/password/reset", {"token": token, "new_password": NEW_PASSWORD}
    )
    assert status == 200

    status, _ = call(base, "POST", "/api/auth/login", {"email": email, "password": PASSWORD})
    assert status == 401
    status, tokens = call(
        base, "POST", "/api/auth/login", {"email": email, "password": NEW_PASSWORD}
    )
    assert status == 200
    status, me = call(base, "GET", "/api/me", token=tokens["access"])
    assert status == 200
    assert (me["email"], me["is_verified"]) == (email, True)
