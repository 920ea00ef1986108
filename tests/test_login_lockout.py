"""Password guessing stops: failed logins lock an account and an address on every path.

Each test uses addresses and accounts of its own (the rest of the suite fails logins
from 127.0.0.1) and a small limit; the suite's own limit is generous (tests/settings.py).
"""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import User

LIMIT = 3
PASSWORD = "correct horse battery"
_addresses = itertools.count(1)


def new_address() -> str:
    """An address no other test uses (documentation range, never 127.0.0.1)."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def new_email() -> str:
    return f"guess-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


@pytest.fixture
def victim(db) -> User:
    return User.objects.create_user(new_email(), PASSWORD, is_staff=True)


def api_login(email: str, password: str, address: str, **headers: str):
    return APIClient().post(
        "/api/auth/login",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


def admin_login(email: str, password: str, address: str):
    return Client().post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password},
        REMOTE_ADDR=address,
    )


def test_admin_login_locks_the_account(victim):
    """The admin had no limit: guesses from many addresses, then the right password."""
    for _ in range(LIMIT - 1):
        assert admin_login(victim.email, "guess", new_address()).status_code == 200  # form again
    assert admin_login(victim.email, "guess", new_address()).status_code == 429
    response = admin_login(victim.email, PASSWORD, new_address())
    assert response.status_code == 429  # not the redirect of a login


def test_api_login_locks_the_account_from_any_address(victim):
    for _ in range(LIMIT - 1):
        assert api_login(victim.email, "guess", new_address()).status_code == 401
    assert api_login(victim.email, "guess", new_address()).status_code == 429
    response = api_login(victim.email, PASSWORD, new_address())
    assert response.status_code == 429
    assert "access" not in response.json()


def test_api_login_locks_the_address_across_accounts(victim):
    """Password spraying: one guess at each of many accounts from one address."""
    address = new_address()
    codes = [api_login(new_email(), "guess", address).status_code for _ in range(LIMIT)]
    assert codes == [401] * (LIMIT - 1) + [429]
    assert api_login(victim.email, PASSWORD, address).status_code == 429
    # The account itself is not locked: from elsewhere it logs in.
    assert api_login(victim.email, PASSWORD, new_address()).status_code == 200


def test_letter_case_and_blanks_do_not_make_another_account(victim):
    spellings = [victim.email.upper(), f"  {victim.email}", victim.email.title()]
    for spelling in spellings:
        api_login(spelling, "guess", new_address())
    assert api_login(victim.email, PASSWORD, new_address()).status_code == 429


def test_a_forged_forwarded_for_does_not_make_another_address(victim):
    address = new_address()
    for n in range(LIMIT):
        forged = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{n + 1}"}
        api_login(new_email(), "guess", address, **forged)
    forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.200"}
    assert api_login(victim.email, PASSWORD, address, **forged).status_code == 429


def test_the_addresses_of_one_ipv6_network_count_as_one(victim):
    network = f"2001:db8:{next(_addresses):x}:1"
    for n in range(LIMIT):
        api_login(new_email(), "guess", f"{network}::{n + 1:x}")
    assert api_login(victim.email, PASSWORD, f"{network}::ffff").status_code == 429


def test_failures_at_the_admin_count_at_the_api(victim):
    """One policy for every login path: the admin's failures lock the API's login."""
    for _ in range(LIMIT):
        admin_login(victim.email, "guess", new_address())
    assert api_login(victim.email, PASSWORD, new_address()).status_code == 429


def test_below_the_limit_the_right_password_logs_in(victim):
    for _ in range(LIMIT - 1):
        assert api_login(victim.email, "guess", new_address()).status_code == 401
    assert api_login(victim.email, PASSWORD, new_address()).status_code == 200
    response = admin_login(victim.email, PASSWORD, new_address())
    assert response.status_code == 302


def test_a_lockout_says_when_to_come_back(victim):
    for _ in range(LIMIT):
        api_login(victim.email, "guess", new_address())
    response = api_login(victim.email, PASSWORD, new_address())
    assert response.status_code == 429
    assert int(response["Retry-After"]) == django_settings.AXES_COOLOFF_TIME.total_seconds()


def test_a_lockout_ends_after_its_cool_off(victim, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for _ in range(LIMIT):
        api_login(victim.email, "guess", new_address())
    assert api_login(victim.email, PASSWORD, new_address()).status_code == 429
    time.sleep(2.1)
    assert api_login(victim.email, PASSWORD, new_address()).status_code == 200


def test_authenticate_without_a_request_still_works(victim):
    """Scripts and commands call authenticate(None, ...): no client, nothing to lock."""
    for _ in range(LIMIT):
        api_login(victim.email, "guess", new_address())
    assert api_login(victim.email, PASSWORD, new_address()).status_code == 429
    assert authenticate(None, username=victim.email, password=PASSWORD) == victim
    assert authenticate(email=victim.email, password=PASSWORD) == victim
    assert authenticate(None, username=victim.email, password="guess") is None


def test_failures_are_counted_in_redis(victim):
    """Another process (another connection to the server) sees the same count."""
    assert django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    for _ in range(LIMIT):
        api_login(victim.email, "guess", new_address())
    server = redis.Redis.from_url(django_settings.CACHES["default"]["LOCATION"])
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
    counts = [int(server.get(key)) for key in server.scan_iter(f"{prefix}:*:axes-*")]
    assert LIMIT in counts


def test_a_lockout_over_the_database_cache(victim):
    """Without REDIS_URL the cache is a table that migrate makes; lockouts count there."""
    database_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "authcore_cache",
        }
    }
    # One override for both, so that axes takes the new cache going in and the old one
    # coming out (it holds on to the cache it was made with).
    with override_settings(CACHES=database_cache, AXES_HANDLER=django_settings.AXES_HANDLER):
        call_command("migrate", verbosity=0)  # its post_migrate makes the table
        for _ in range(LIMIT):
            api_login(victim.email, "guess", new_address())
        assert admin_login(victim.email, PASSWORD, new_address()).status_code == 429
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM authcore_cache WHERE cache_key LIKE %s", ["%axes-%"]
            )
            assert cursor.fetchone()[0] >= 1


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    ],
)
def test_a_per_process_cache_is_a_configuration_error(settings, backend):
    settings.CACHES = {"default": {"BACKEND": backend}}
    assert "authcore.E001" in {message.id for message in run_checks()}


def test_the_shared_cache_passes_the_check():
    assert "authcore.E001" not in {message.id for message in run_checks()}


# --- the API's throttle: every attempt, right or wrong, per address ----------------------


@pytest.fixture
def throttle_rate():
    from accounts.api.views import LoginView

    throttle = LoginView.throttle_classes[0]
    saved = throttle.THROTTLE_RATES
    throttle.THROTTLE_RATES = {"login": "2/min"}
    yield
    throttle.THROTTLE_RATES = saved


def test_login_is_throttled(db, throttle_rate):
    address = new_address()
    codes = [api_login(new_email(), "no", address).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_login_throttle_ignores_a_forged_forwarded_for(db, throttle_rate):
    address = new_address()
    codes = [
        api_login(new_email(), "no", address, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert codes == [401, 401, 429]


def test_login_throttle_trusts_the_proxies_it_is_told_of(db, throttle_rate, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = new_address()
    codes = [
        api_login(new_email(), "no", proxy, HTTP_X_FORWARDED_FOR=new_address()).status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 401]
