"""The accounts app: its models, and the wiring its flows and admin need at start-up."""

from importlib import import_module

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Consolidated users, their API keys, and where each came from."""

    name = "accounts"
    verbose_name = "Accounts"

    def import_models(self) -> None:
        # The tenant invitations and their record live in a module of their own.
        super().import_models()
        import_module("accounts.membership_models")

    def ready(self) -> None:
        # The admin has imported every app's admin module by now (it is the first app);
        # any admin registered later is guarded as it registers.
        from django.contrib import admin

        from accounts import tenant_admin  # noqa: F401  (registers the tenant records)
        from accounts.flows import events
        from authcore import logs
        from authcore.lib.admin_guard import guard_site

        events.connect_signals()
        logs.connect_signals()
        guard_site(admin.site)
