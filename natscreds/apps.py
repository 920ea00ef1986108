from django.apps import AppConfig


class NatscredsConfig(AppConfig):
    """NATS accounts and sessions, consolidated (filled by the NATS copy)."""

    name = "natscreds"
    verbose_name = "NATS credentials"
