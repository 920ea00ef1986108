"""Test settings: the real settings, pointed at a test database.

TEST_DATABASE=postgresql (default) uses TEST_DATABASE_URL (default: the local server on
127.0.0.1:5432, user postgres); TEST_DATABASE=sqlite uses the embedded default.
"""

from __future__ import annotations

import os
import uuid

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-at-least-32-bytes-long")
# Lockouts and throttles count in Redis, as in production (.ci/run starts the server).
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from authcore.settings import *  # noqa: E402,F403
from authcore.settings import BASE_DIR, CACHES, PASSWORD_HASHERS, env  # noqa: E402

TEST_DATABASE = os.environ.get("TEST_DATABASE", "postgresql")

if TEST_DATABASE == "sqlite":
    # A file, not :memory:, so tests that run migrations see one database.
    _sqlite = os.environ.get("TEST_SQLITE_NAME", str(BASE_DIR / "test-authcore.sqlite3"))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _sqlite,
            "TEST": {"NAME": _sqlite},
        }
    }
else:
    DATABASES = {
        "default": env.db_url(
            "TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/authcore"
        )
    }

# A fast hasher first where hashing is not what is tested; the legacy hashers stay
# registered so copied hashes still verify.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# Tests log in far more often than a person would. The lockout tests set their own
# limits and use addresses and accounts of their own.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "10000/min"}}  # noqa: F405
AXES_FAILURE_LIMIT = 100_000
# Keys of this run only: runs side by side on one Redis server, or one after another
# within a lockout's cool-off, never count each other's attempts.
CACHES = {
    alias: {**config, "KEY_PREFIX": f"authcore-test-{uuid.uuid4().hex[:12]}"}
    for alias, config in CACHES.items()
}

# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
