from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Consolidated users, their API keys, and where each came from."""

    name = "accounts"
    verbose_name = "Accounts"
