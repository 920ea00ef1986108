"""Test settings: the real settings, pointed at a test database.

TEST_DATABASE=postgresql (default) uses TEST_DATABASE_URL (default: the local server on
127.0.0.1:5432, user postgres); TEST_DATABASE=sqlite uses the embedded default.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-at-least-32-bytes-long")

from authcore.settings import *  # noqa: E402,F403
from authcore.settings import BASE_DIR, PASSWORD_HASHERS, env  # noqa: E402

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

# Tests log in far more often than a person would.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "10000/min"}}  # noqa: F405
