"""System checks: settings that would quietly weaken the login's defences."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

# Caches that live inside one process: N processes would allow N times the attempts.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security, Tags.caches)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """authcore.E001: lockouts and throttles need a cache every process shares."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            Error(
                f"The default cache ({backend}) is per process: login lockouts and "
                "throttles counted there allow each worker its own attempts.",
                hint="Set REDIS_URL, or leave CACHES to the database cache of the settings.",
                id="authcore.E001",
            )
        ]
    return []


@register(Tags.security)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """authcore.W001: a random SECRET_KEY (DEBUG without one) ends sessions at restart."""
    if getattr(settings, "SECRET_KEY_IS_RANDOM", False):
        return [
            Warning(
                "SECRET_KEY is not set: this process made a random one. Sessions and "
                "tokens end when it stops, and each process has its own.",
                hint="Set SECRET_KEY in the environment or in .env (see .env.example).",
                id="authcore.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_jwt_signing_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """authcore.W002: a JWT_SIGNING_KEY of its own must be as strong as a SECRET_KEY."""
    key = settings.JWT_SIGNING_KEY
    if key != settings.SECRET_KEY and (len(key) < 50 or len(set(key)) < 5):
        return [
            Warning(
                "JWT_SIGNING_KEY is short or repetitive: a guessed key forges any token.",
                hint="Use at least 50 random characters (see .env.example).",
                id="authcore.W002",
            )
        ]
    return []
