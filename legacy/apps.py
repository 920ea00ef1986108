from django.apps import AppConfig


class LegacyConfig(AppConfig):
    """The legacy tables (read-only) and the engine that copies them into accounts."""

    name = "legacy"
    verbose_name = "Legacy tables"

    def ready(self) -> None:
        from legacy import checks  # noqa: F401  (registers the system checks)
