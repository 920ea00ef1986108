"""Login time does not tell who has an account, nor whose password is a legacy hash.

With the production hashers (the suite's settings put a fast MD5 first): a wrong
password for an unknown address, a user with a legacy bcrypt hash, and a user with the
default PBKDF2 hash take comparable time (medians of a few logins, within 2x).
"""

from __future__ import annotations

import statistics
import time

import bcrypt
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from authcore.settings import PASSWORD_HASHERS as PRODUCTION_HASHERS

ROUNDS = 7
# The legacy auth service's cost: a check takes a quarter of the default PBKDF2's.
LEGACY_BCRYPT_COST = 10


def login_seconds(client: APIClient, email: str, address: str) -> float:
    started = time.perf_counter()
    response = client.post(
        "/api/auth/login",
        {"email": email, "password": "a wrong guess"},
        format="json",
        REMOTE_ADDR=address,
    )
    assert response.status_code == 401
    return time.perf_counter() - started


def median_login_seconds(logins: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Each kind's median, the kinds taking turns within every round, so that the
    machine's load at any moment weighs on all of them alike."""
    client = APIClient()
    times: dict[str, list[float]] = {kind: [] for kind in logins}
    for _ in range(ROUNDS):
        for kind, (email, address) in logins.items():
            times[kind].append(login_seconds(client, email, address))
    return {kind: statistics.median(seconds) for kind, seconds in times.items()}


@pytest.mark.django_db
def test_login_time_does_not_tell_who_has_an_account(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    native = User.objects.create_user("native@example.com", "the right password")
    assert native.password.startswith("pbkdf2_sha256$")
    legacy = User.objects.create_user("legacy@example.com")
    legacy_hash = bcrypt.hashpw(b"the right password", bcrypt.gensalt(LEGACY_BCRYPT_COST))
    User.objects.filter(pk=legacy.pk).update(password=f"legacy_bcrypt${legacy_hash.decode()}")

    medians = median_login_seconds(
        {
            "unknown": ("nobody@example.com", "192.0.2.10"),
            "legacy": (legacy.email, "192.0.2.11"),
            "native": (native.email, "192.0.2.12"),
        }
    )

    slowest, fastest = max(medians.values()), min(medians.values())
    assert slowest < 2 * fastest, medians
