"""manage.py restore_legacy_nats_credentials BACKUP: undo drop_legacy_nats_credentials.

Nothing in the folder is trusted: a backup whose signed manifest or files changed is
refused with one line, and no SQL text from it is ever run (natscreds.retire, tabledef).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps as live_apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from legacy.catalog import LEGACY_MODELS
from legacy.engine.nats import CREDENTIALS as KEY
from legacy.engine.schema import configured_tables
from legacy.tables import InvalidTableName
from natscreds import retire


class Command(BaseCommand):
    help = (
        "Recreate the legacy nats_user_credential table from a drop_legacy_nats_credentials "
        "backup: checks the manifest's signature (SECRET_KEY) and every file's checksum, "
        "re-creates the table from its validated description, reloads the rows, and proves "
        "them identical to the backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="The backup folder the drop printed.")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        try:
            legacy_tables = configured_tables(live_apps, LEGACY_MODELS)
            with transaction.atomic(using=using):
                restored = retire.restore(
                    connections[using],
                    options["backup"],
                    key=KEY,
                    table=legacy_tables[KEY],
                    legacy_tables=legacy_tables.values(),
                )
        except InvalidTableName as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except (retire.BackupError, OSError, ValueError) as exc:
            message = " ".join(str(exc).split())
            raise CommandError(f"not restored: {message}", returncode=1) from exc
        except DatabaseError as exc:
            message = " ".join(str(exc).split()) or exc.__class__.__name__
            raise CommandError(f"not restored, database error: {message}", returncode=3) from exc
        self.stdout.write(
            f"Restored {restored.table}: {restored.rows} rows, identical to the backup "
            f"(sha256 {restored.sha256})."
        )
        for note in restored.notes:
            self.stdout.write(f"  {note}")
