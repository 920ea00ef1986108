"""The OpenAPI schema at /api/schema is public, valid, and describes every endpoint."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate
from rest_framework.test import APIClient


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi(schema):
    validate(schema)


def test_schema_lists_the_endpoints(schema):
    assert set(schema["paths"]) == {
        "/api/health",
        "/api/health/detailed",
        "/api/me",
        "/api/keys",
        "/api/keys/{id}/revoke",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/logout-all",
        "/api/tenants/{slug}/users",
        "/api/auth/signup",
        "/api/auth/verify",
        "/api/auth/verify/request",
        "/api/auth/password/forgot",
        "/api/auth/password/reset",
        "/api/auth/password/change",
        "/api/tenants",
        "/api/tenants/{slug}/users/{email}",
        "/api/tenants/{slug}/invitations",
        "/fu_auth/jwt/login",
        "/fu_auth/jwt/logout",
        "/fu_auth/register",
        "/fu_auth/forgot-password",
        "/fu_auth/reset-password",
        "/fu_auth/request-verify-token",
        "/fu_auth/verify",
        "/fu_auth/users/me",
    }


def test_schema_knows_both_bearer_schemes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKeyAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["jwtAuth"]["bearerFormat"] == "JWT"


def test_login_asks_for_email(schema):
    body = schema["paths"]["/api/auth/login"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"email", "password"} <= set(schema["components"]["schemas"][ref]["required"])


def test_schema_ignores_a_bad_header(db):
    response = APIClient().get("/api/schema", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 200


def test_schema_generation_has_no_warnings():
    """drf-spectacular warns when it must guess; a guess is a bug in the views."""
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=StringIO())
    assert yaml.safe_load(out.getvalue())["openapi"].startswith("3.")
