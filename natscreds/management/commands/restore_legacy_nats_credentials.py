"""manage.py restore_legacy_nats_credentials BACKUP: undo drop_legacy_nats_credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from natscreds import retire


class Command(BaseCommand):
    help = (
        "Recreate the legacy nats_user_credential table from a drop_legacy_nats_credentials "
        "backup: checks the checksums, recreates the table as it was defined, reloads the "
        "rows, and proves them identical to the backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="The backup folder the drop printed.")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        try:
            with transaction.atomic(using=using):
                restored = retire.restore(connections[using], options["backup"])
        except (retire.BackupError, OSError, ValueError) as exc:
            raise CommandError(f"not restored: {exc}", returncode=1) from exc
        except DatabaseError as exc:
            message = " ".join(str(exc).split()) or exc.__class__.__name__
            raise CommandError(f"not restored, database error: {message}", returncode=3) from exc
        self.stdout.write(
            f"Restored {restored.table}: {restored.rows} rows, identical to the backup "
            f"(sha256 {restored.sha256})."
        )
