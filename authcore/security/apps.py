from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SecurityConfig(AppConfig):
    """Connects the token-ending signals, the cache table and the security checks."""

    name = "authcore.security"
    label = "authcore_security"
    verbose_name = "Login security"

    def ready(self) -> None:
        from accounts.tokens import connect_signals
        from authcore.security import cache_table, checks  # noqa: F401  (registers checks)

        connect_signals()
        post_migrate.connect(
            cache_table.create_cache_table,
            sender=self,
            dispatch_uid="authcore.security.create_cache_table",
        )
