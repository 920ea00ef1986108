"""manage.py drop_legacy_nats_credentials: retire the legacy credential table.

The one command that changes a legacy table. It refuses unless the NATS copy verifies and
every credential passes its checks, writes a complete backup first (natscreds.retire),
asks before dropping, and says how to restore.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps as live_apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone

from legacy.catalog import LEGACY_MODELS
from legacy.engine import CopyInProgress
from legacy.engine.locking import exclusive_run
from legacy.engine.nats import CREDENTIALS as KEY
from legacy.engine.schema import configured_tables
from legacy.tables import InvalidTableName
from natscreds import retire
from natscreds.audit import readiness


def default_backup_dir() -> Path:
    """Under the project's git-ignored artifacts/ folder."""
    return Path(settings.BASE_DIR) / "artifacts" / "backups"


class Command(BaseCommand):
    help = (
        "Drop the legacy nats_user_credential table once every credential is on its user: "
        "refuses unless the NATS copy verifies and every credential passes its checks; writes "
        "a complete backup (JSON lines and a manifest signed with SECRET_KEY) first; asks "
        "before dropping."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backup-dir",
            type=Path,
            help=f"Folder for the backup (a new subfolder per run). Default: "
            f"{default_backup_dir()}",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (for scripts)."
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        connection = connections[using]
        try:
            legacy_tables = configured_tables(live_apps, LEGACY_MODELS)
            table = legacy_tables[KEY]
            with connection.cursor() as cursor:
                exists = table in connection.introspection.table_names(cursor)
            if not exists:
                raise CommandError(f"{table} does not exist: nothing to drop", returncode=2)
            self._refuse_unless_ready(using)
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            directory = (options["backup_dir"] or default_backup_dir()) / f"{table}-{stamp}"
            if not options["yes"]:
                self._confirm(table, directory)
            with exclusive_run(connection), transaction.atomic(using=using):
                retire.lock(connection, table)
                self._refuse_unless_ready(using)  # again, now that nothing can change it
                backup = retire.write_backup(
                    connection, table, directory, key=KEY, legacy_tables=legacy_tables.values()
                )
                # Read back from disk: what is dropped is what a restore would re-create.
                written = retire.definition(
                    connection,
                    retire.check_backup(directory),
                    key=KEY,
                    table=table,
                    legacy_tables=legacy_tables.values(),
                )
                retire.drop(connection, written)
        except InvalidTableName as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except CopyInProgress as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except (retire.BackupError, OSError) as exc:
            raise CommandError(f"backup failed, nothing dropped: {exc}", returncode=1) from exc
        except DatabaseError as exc:
            message = " ".join(str(exc).split()) or exc.__class__.__name__
            raise CommandError(f"database error, nothing dropped: {message}", returncode=3) from exc
        self.stdout.write(
            f"Dropped {table}: {backup.rows} rows backed up first to {backup.directory}\n"
            f"  rows sha256 {backup.sha256}; the manifest is signed with SECRET_KEY, which a "
            f"restore needs (check the files: cd {backup.directory} && sha256sum -c "
            f"{retire.SUMS})\n"
            f"To restore it:\n"
            f"  manage.py restore_legacy_nats_credentials {backup.directory}"
        )
        if table != KEY:
            self.stdout.write(
                f"LEGACY_TABLE_{KEY.upper()} names {table!r}, which is gone now: unset it (a "
                "configured legacy table must exist), and set it again if you restore."
            )

    def _refuse_unless_ready(self, using: str) -> None:
        ready = readiness(live_apps, using=using, sample_limit=50)
        if ready.ok:
            return
        for line in ready.problems():
            self.stderr.write(f"  {line}")
        raise CommandError(
            "refusing to drop: the NATS copy does not verify, or some credentials fail their "
            "checks (above). Fix them, run migrate_legacy_users, and try again.",
            returncode=1,
        )

    def _confirm(self, table: str, directory: Path) -> None:
        self.stdout.write(
            f"Every credential is verified. This backs {table} up to {directory} and then "
            f"DROPS the table; the old services can no longer read it."
        )
        try:
            answer = input("Type 'drop' to continue: ")
        except EOFError:
            answer = ""
        if answer.strip() != "drop":
            raise CommandError("not dropped (no confirmation; --yes skips the question)")
