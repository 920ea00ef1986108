"""The database cache's table, made by every ``migrate`` so nobody has to remember it."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command


def create_cache_table(using: str = "default", verbosity: int = 1, **kwargs: Any) -> None:
    """post_migrate: ``createcachetable`` (it skips tables that exist, and other caches)."""
    call_command("createcachetable", database=using, verbosity=max(verbosity - 1, 0))
