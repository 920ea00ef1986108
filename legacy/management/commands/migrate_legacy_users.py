"""manage.py migrate_legacy_users: copy (again), preview, or verify the legacy copy."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps as live_apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from legacy.engine import (
    SOURCES,
    CopyInProgress,
    Report,
    UnknownSource,
    copy_legacy,
    verify_legacy,
)
from legacy.progress import ProgressPrinter
from legacy.reporting import issue_lines, render_report
from legacy.tables import InvalidTableName, MissingLegacyTable

EXIT_CODES = """exit codes:
  0  done (and, with --verify, every legacy row is accounted for and matches)
  1  --verify found problems (listed in the report)
  2  bad usage or configuration (unknown source, invalid or missing legacy table name,
     migrations not applied)
  3  the database failed (unreachable, wrong credentials, an error mid-copy: whole
     units of work already done are kept, the next run resumes after them)
  4  another copy is running against this database (use --wait to queue)"""


NATS_LOGGER = "legacy.engine.nats"
# The apps whose tables the copy reads and writes.
OWN_APPS = ("accounts", "legacy", "natscreds")


def _unapplied_after_failure(using: str) -> list[str]:
    """After a database error: authcore's migrations (and what they need) not yet applied
    to ``using``, in order, which would explain it.

    A database ``migrate`` never ran on (or that a failed one left behind) stops the copy
    at its first missing table, in the database's own words ("relation ... does not
    exist"), where what to do is run ``migrate``. Asked only after a failure, so a run
    that works pays nothing; empty if the database cannot even say.
    """
    try:
        executor = MigrationExecutor(connections[using])
        targets = [node for node in executor.loader.graph.leaf_nodes() if node[0] in OWN_APPS]
        return [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(targets)]
    except DatabaseError:
        return []


class _OutputHandler(logging.Handler):
    """A logging handler writing plain lines to a command's OutputWrapper."""

    def __init__(self, out: Any) -> None:
        super().__init__(logging.DEBUG)
        self.out = out
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.out.write(self.format(record), style_func=str)
        except Exception:
            self.handleError(record)


class Command(BaseCommand):
    help = (
        "Copy legacy user tables into the consolidated accounts (the same engine as "
        "`migrate`). Rows already copied are skipped; legacy tables are only read."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        sources = "\n".join(f"  {s.name:<14} {s.description}" for s in SOURCES.values())
        parser.epilog = f"sources (copied in this order, their merge priority):\n{sources}\n\n"
        parser.epilog += EXIT_CODES
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            action="append",
            dest="sources",
            metavar="NAME",
            help="Only this source (repeatable); names below. Default: all.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be copied, and a census of password formats; write nothing.",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Copy nothing; check that every legacy row is copied, merged or reported "
            "with a reason, and that copied fields match. Exit 1 if not.",
        )
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Also catch up with legacy rows changed since they were copied (before the "
            "cut-over): changes apply unless authcore changed the same value (a conflict, "
            "authcore's change kept); deactivations and revocations always apply.",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="If another copy is running, wait for it instead of refusing.",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON report on stdout instead."
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)."
        )
        parser.add_argument(
            "--debug",
            action="store_true",
            help="Log every row of the NATS step (what was checked, chosen, superseded or "
            "rejected, and why) on stderr.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify"] and (options["dry_run"] or options["sync"]):
            raise CommandError("--verify copies nothing: drop --dry-run / --sync", returncode=2)
        if options["dry_run"] and options["verify"]:
            raise CommandError("--dry-run and --verify do not go together", returncode=2)
        try:
            with self._nats_debug(options["debug"]):
                report = self._run(options)
        except CopyInProgress as exc:
            raise CommandError(str(exc), returncode=4) from exc
        except (UnknownSource, InvalidTableName, MissingLegacyTable) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except DatabaseError as exc:
            pending = _unapplied_after_failure(options["database"])
            if pending:
                raise CommandError(
                    f"authcore's tables are not all there yet: {len(pending)} migration(s)"
                    f" not applied ({', '.join(pending[:3])}{', ...' if len(pending) > 3 else ''})."
                    f" Run `manage.py migrate` first (it copies the legacy rows too).",
                    returncode=2,
                ) from exc
            message = " ".join(str(exc).split()) or exc.__class__.__name__
            raise CommandError(f"database error: {message}", returncode=3) from exc

        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
        else:
            self.stdout.write(render_report(report))
            if options["verbosity"] >= 2:
                for line in issue_lines(live_apps, options["database"], report):
                    self.stdout.write(line)
        if report.verification is not None and not report.verification.ok:
            raise CommandError("verification failed: see the problems above", returncode=1)

    @contextmanager
    def _nats_debug(self, enabled: bool) -> Iterator[None]:
        """Send the NATS step's per-row DEBUG lines to this command's stderr."""
        if not enabled:
            yield
            return
        logger = logging.getLogger(NATS_LOGGER)
        handler = _OutputHandler(self.stderr)
        saved = logger.level, logger.propagate
        logger.addHandler(handler)
        # Not also through the "legacy" console handler: each line once, on our stderr.
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]

    def _run(self, options: dict[str, Any]) -> Report:
        common = {"using": options["database"], "sources": options["sources"]}
        if options["verify"]:
            limit = 10**9 if options["verbosity"] >= 2 else 50
            return verify_legacy(live_apps, sample_limit=limit, **common)
        return copy_legacy(
            live_apps,
            # The raw stream: the bar redraws its line, which OutputWrapper would end.
            progress=ProgressPrinter(options.get("stderr") or sys.stderr)
            if options["verbosity"] >= 1
            else None,
            dry_run=options["dry_run"],
            sync=options["sync"],
            wait=options["wait"],
            trigger="command",
            **common,
        )
