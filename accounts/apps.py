from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Consolidated users, their API keys, and where each came from."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The admin has imported every app's admin module by now (it is the first app);
        # any admin registered later is guarded as it registers.
        from django.contrib import admin

        from authcore.lib.admin_guard import guard_site

        guard_site(admin.site)
