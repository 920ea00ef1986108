"""Structured logs: a JSON line per request and per account event, each with the request
id, and never a password, token or hash."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.api.authentication import generate_token
from accounts.models import ApiKey, Membership, Tenant, User
from authcore import logs
from tests.account_helpers import NEW_PASSWORD, PASSWORD, as_bearer, last_token, make_user


@pytest.fixture
def lines():
    """Every line logged during the test, formatted as the settings format them (JSON)."""
    config = logs.logging_config("json", "INFO", "WARNING")
    formatter = logging.config.DictConfigurator(config).configure_custom(
        dict(config["formatters"]["main"])
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = logging.getLogger("authcore").level
    logging.getLogger("authcore").setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    logging.getLogger("authcore").setLevel(previous)


import logging.config  # noqa: E402


def test_requests_and_account_events_are_json_lines_with_the_request_id(db, lines):
    api = APIClient()
    response = api.post(
        "/api/auth/signup", {"email": "log@example.com", "password": PASSWORD}, format="json"
    )
    rid = response["X-Request-ID"]
    records = [r for r in lines() if r.get("request_id") == rid]
    assert {r["logger"] for r in records} >= {"authcore.events", "authcore.request"}
    event = next(r for r in records if r.get("event") == "signed_up")
    assert event["user_id"] == User.objects.get().pk
    request = next(r for r in records if r["logger"] == "authcore.request")
    assert request["path"] == "/api/auth/signup" and request["status"] == 202


def test_djangos_own_lines_carry_the_request_id_too(db, lines):
    response = APIClient().get("/api/no-such-route")
    assert response.status_code == 404
    rid = response["X-Request-ID"]
    warning = next(r for r in lines() if r["logger"] == "django.request")
    assert warning["request_id"] == rid
    assert logs.request_id.get() == logs.NO_REQUEST


def test_a_client_request_id_is_kept_only_when_plain(db, lines):
    api = APIClient()
    kept = api.get("/api/health", HTTP_X_REQUEST_ID="trace-1234abcd")
    assert kept["X-Request-ID"] == "trace-1234abcd"
    forged = api.get("/api/health", HTTP_X_REQUEST_ID='x" injected\n{"level": "CRITICAL"}')
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])


def test_every_account_event_is_logged_and_no_secret_is(db, lines):
    user = make_user("ev@example.com")
    tenant = Tenant.objects.create(name="T", slug="t")
    Membership.objects.create(tenant=tenant, user=user, role="owner")
    key, prefix, digest = generate_token()
    ApiKey.objects.create(user=user, name="k", prefix=prefix, digest=digest)
    api = APIClient()

    api.post("/api/auth/login", {"email": "ev@example.com", "password": "wrong"}, format="json")
    tokens = api.post(
        "/api/auth/login", {"email": "ev@example.com", "password": PASSWORD}, format="json"
    ).json()
    as_bearer(key).get("/api/me")
    api.post("/api/auth/password/forgot", {"email": "ev@example.com"}, format="json")
    reset_token = last_token("ev@example.com", "reset-password")
    api.post(
        "/api/auth/password/reset",
        {"token": reset_token, "new_password": NEW_PASSWORD},
        format="json",
    )
    api.post("/api/auth/signup", {"email": "second@example.com", "password": PASSWORD})
    verify_token = last_token("second@example.com", "verify-email")
    api.post("/api/auth/verify", {"token": verify_token}, format="json")
    owner = as_bearer(
        api.post(
            "/api/auth/login", {"email": "ev@example.com", "password": NEW_PASSWORD}, format="json"
        ).json()["access"]
    )
    owner.post("/api/tenants/t/users", {"email": "second@example.com", "role": "member"})
    fu = api.post(
        "/fu_auth/jwt/login",
        f"username=ev%40example.com&password={NEW_PASSWORD.replace(' ', '+')}",
        content_type="application/x-www-form-urlencoded",
    ).json()

    records = lines()
    events = {r.get("event") for r in records}
    assert {
        "login_failed",
        "login_succeeded",
        "api_key_used",
        "password_reset_requested",
        "password_reset",
        "signed_up",
        "email_verified",
        "tenant_membership_changed",
    } <= events
    assert all(r["request_id"] != logs.NO_REQUEST for r in records if r.get("event"))

    text = "\n".join(json.dumps(r) for r in records)
    secrets = [
        PASSWORD,
        NEW_PASSWORD,
        "wrong",
        key,
        digest,
        tokens["access"],
        tokens["refresh"],
        fu["access_token"],
        reset_token,
        verify_token,
        reset_token.split(".")[1],
        verify_token.split(".")[1],
        *User.objects.values_list("password", flat=True),
    ]
    for secret in secrets:
        assert secret not in text.replace('"password_reset', ""), secret
    assert "ev@example.com" not in [r.get("account") for r in records]
    assert mail.outbox  # the emails carry the links; the logs never do


def test_text_on_a_terminal_json_otherwise(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert logs.log_format("auto") == "text"
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert logs.log_format("auto") == "json"
    assert logs.log_format("text") == "text"
    text = logs.logging_config("text", "INFO", "WARNING")["formatters"]["main"]
    assert "request_id" in text["format"] and "()" not in text
