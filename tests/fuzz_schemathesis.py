"""The whole API against its own OpenAPI schema (``make schemathesis``).

schemathesis reads /api/schema and calls every operation with data generated from it,
as a logged-in tenant owner with a fresh JWT each time (and without one, where the
operation allows it). Each answer must be no server error and be described by the
schema: its status code, content type, headers and body.

Not collected by the plain test run (its name does not start with ``test_``): `make test`
runs it on its own.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis import checks

from accounts.models import Membership, Tenant, User

EXAMPLES = 30
# What the API promises: no server error, and only answers its schema describes. (Not
# schemathesis' checks of the schema's own precision, such as whether every request it
# allows is accepted: a token it cannot know is refused, as it should be.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """As Django's test client does: a request must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner(db) -> User:
    user = User.objects.create_user("owner@example.com", "a long enough passphrase 1")
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    Membership.objects.create(tenant=tenant, user=user, role="owner")
    return user


# Reading the schema needs no database: it is generated from the views.
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_the_schema_says(case, owner):
    owner.refresh_from_db()  # a generated PATCH may have set a new password
    token = AccessToken.for_user(owner)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
