"""The nkey and JWT checks of every NATS account and credential row, and their results
written set-based (a signature cannot be checked in SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authcore.lib import nats_checks
from legacy.engine.context import Context
from legacy.engine.issues import WARNING, record_issues
from legacy.engine.nats.common import ACCOUNTS, CREDENTIALS, OWNER_SOURCE, _credential_rows, log
from legacy.engine.report import Problem, Verification
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params

# Check results are appended to temporary tables this many rows per executemany (one
# row's parameters per execution), then written with one statement per step.
FLUSH_ROWS = 5000
_CODE_ORDER = {code: position for position, code in enumerate(nats_checks.ALL_CODES)}


def _check_credential(row: tuple[Any, ...], check_expiry: bool) -> list[nats_checks.Problem]:
    _, _, public_key, jwt, account_public_key, expires_at, key, signing_key, known = row[:9]
    return nats_checks.check_user_credential(
        seed_hash=row[9],
        public_key=public_key,
        jwt=jwt,
        account_public_key=account_public_key,
        account_key=key,
        account_signing_keys=[signing_key],
        expires_at=expires_at,
        account_known=bool(known),
        check_expiry=check_expiry,
    )


def _account_rows(ctx: Context, accounts: LegacyTable, only: str | None = None) -> str:
    """Account rows (all, or those whose legacy_id is in stage ``only``) and their keys."""
    d = ctx.dialect
    only_join = "" if only is None else f" JOIN {only} k ON k.legacy_id = {d.as_text('s.id')}"
    return (
        f"SELECT {d.as_text('s.id')}, s.public_key, {accounts.col('s', 'signing_key_public')}"
        f" FROM {accounts.sql} s{only_join} ORDER BY s.id"
    )


def _unique(problems: list[nats_checks.Problem]) -> list[nats_checks.Problem]:
    """One problem per code (the first), in the order of nats_checks.ALL_CODES."""
    seen: dict[str, nats_checks.Problem] = {}
    for problem in problems:
        seen.setdefault(problem.code, problem)
    return sorted(seen.values(), key=lambda p: _CODE_ORDER.get(p.code, len(_CODE_ORDER)))


def codes_text(problems: list[nats_checks.Problem]) -> str:
    """How ``User.nats_problems`` spells a check result: codes, comma-separated."""
    return ",".join(p.code for p in _unique(problems))


def _describe(problems: list[nats_checks.Problem]) -> str:
    return "; ".join(f"{p.code}: {p.detail}" for p in problems) or "ok"


class _CheckWriter:
    """Collects the check results of streamed rows, then writes them set-based.

    While the rows stream, each result is appended to two temporary tables (``FLUSH_ROWS``
    rows per ``executemany``): one row per checked row with its codes, one per problem.
    ``finish`` then writes them with one statement per step: flags of the checked rows that
    no longer hold are forgotten, new ones recorded as RowIssue warnings, and (for
    credentials) the users carrying a checked row get its codes. A statement per batch
    instead would join the whole user table once per batch.
    """

    def __init__(self, ctx: Context, source: str, update_users: bool) -> None:
        self.ctx = ctx
        self.source = source
        self.update_users = update_users
        self.checked = self._create("nats_checked", "legacy_id TEXT NOT NULL, codes TEXT NOT NULL")
        self.found = self._create(
            "nats_found", "legacy_id TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT"
        )
        self.checked_rows: list[tuple[str, str]] = []
        self.found_rows: list[tuple[str, str, str]] = []
        self.checked_count = 0
        self.found_count = 0
        self.indexed = False

    def _create(self, name: str, columns: str) -> str:
        table = self.ctx.dialect.quote(f"authcore_stage_{name}")
        self.ctx.drop_stage(table)
        self.ctx.execute(f"CREATE TEMPORARY TABLE {table} ({columns})", Params())
        return table

    def add(self, legacy_id: str, problems: list[nats_checks.Problem]) -> None:
        problems = _unique(problems)
        self.checked_rows.append((legacy_id, codes_text(problems)))
        self.found_rows.extend((legacy_id, p.code, p.detail[:1000]) for p in problems)
        if len(self.checked_rows) + len(self.found_rows) >= FLUSH_ROWS:
            self._append()

    def _append(self) -> None:
        """Append the results collected so far to the temporary tables."""
        with self.ctx.connection.cursor() as cursor:
            if self.checked_rows:
                cursor.executemany(
                    f"INSERT INTO {self.checked} (legacy_id, codes) VALUES (%s, %s)",
                    self.checked_rows,
                )
            if self.found_rows:
                cursor.executemany(
                    f"INSERT INTO {self.found} (legacy_id, reason, detail) VALUES (%s, %s, %s)",
                    self.found_rows,
                )
        self.checked_count += len(self.checked_rows)
        self.found_count += len(self.found_rows)
        self.checked_rows, self.found_rows = [], []

    def ready(self) -> None:
        """Append what is left, and index: statements may then read ``checked`` (legacy_id,
        codes) to write the codes themselves before ``finish``."""
        self._append()
        if not self.indexed:
            self._index()
            self.indexed = True

    def finish(self) -> None:
        """Write every collected result (one statement per step), drop the tables."""
        self.ready()
        if self.checked_count:
            self._forget_stale()
            if self.found_count:
                record_issues(
                    self.ctx,
                    self.source,
                    WARNING,
                    f"SELECT f.legacy_id, f.reason, f.detail FROM {self.found} f",
                    self.ctx.params(),
                )
            if self.update_users:
                self._update_users()
        self.ctx.drop_stage(self.found)
        self.ctx.drop_stage(self.checked)

    def _index(self) -> None:
        """Indexes for the correlated look-ups, statistics for the plans."""
        d = self.ctx.dialect
        for table, name, columns in (
            (self.checked, "nats_checked_id", "legacy_id"),
            (self.found, "nats_found_id", "legacy_id, reason"),
        ):
            index = d.quote(f"authcore_stage_{name}")
            self.ctx.execute(f"CREATE INDEX {index} ON {table} ({columns})", Params())
            self.ctx.planner.analyze(table)

    def _forget_stale(self) -> None:
        """Forget the flags of checked rows that the check no longer finds."""
        issue = self.ctx.table_of("legacy.RowIssue")
        params = self.ctx.params(issue_source=self.source, issue_kind=WARNING)
        codes = ", ".join(params.add(code, "code") for code in nats_checks.ALL_CODES)
        self.ctx.execute(
            f"DELETE FROM {issue} WHERE source = %(issue_source)s AND kind = %(issue_kind)s"
            f" AND reason IN ({codes})"
            f" AND legacy_id IN (SELECT c.legacy_id FROM {self.checked} c)"
            f" AND NOT EXISTS (SELECT 1 FROM {self.found} f"
            f" WHERE f.legacy_id = {issue}.legacy_id AND f.reason = {issue}.reason)",
            params,
        )

    def _update_users(self) -> None:
        """The users carrying a checked row get its codes: looked up by the rows' ids, as
        a re-run checks a few rows and a merge join read every user carrying one."""
        user = self.ctx.table_of("accounts.User")
        with self.ctx.planner.index_joins():
            self.ctx.execute(
                f"UPDATE {user} SET nats_problems = v.codes FROM {self.checked} v"
                f" WHERE {user}.nats_legacy_id = v.legacy_id"
                f" AND {self.ctx.dialect.distinct(f'{user}.nats_problems', 'v.codes')}",
                self.ctx.params(),
            )


def _check_accounts(ctx: Context, accounts: LegacyTable, only: str) -> None:
    """Stream the account rows listed in stage ``only`` through the checks."""
    writer = _CheckWriter(ctx, ACCOUNTS, update_users=False)
    for legacy_id, public_key, signing_key in ctx.stream(
        _account_rows(ctx, accounts, only), ctx.params()
    ):
        problems = nats_checks.check_account(public_key=public_key, signing_key=signing_key)
        log.debug("%s#%s checked: %s", ACCOUNTS, legacy_id, _describe(problems))
        writer.add(legacy_id, problems)
    writer.finish()


def _check_credentials(ctx: Context, creds: LegacyTable, only: str) -> _CheckWriter:
    """Stream the credential rows listed in stage ``only`` through the checks; the caller
    finishes the returned writer."""
    writer = _CheckWriter(ctx, CREDENTIALS, update_users=True)
    for row in ctx.stream(_credential_rows(ctx, creds, only=only), ctx.params()):
        problems = _check_credential(row, creds.has("expires_at"))
        log.debug(
            "%s#%s (owner %s#%s) checked: %s",
            CREDENTIALS,
            row[0],
            OWNER_SOURCE,
            row[1],
            _describe(problems),
        )
        writer.add(row[0], problems)
    writer.ready()
    return writer


@dataclass
class Audit:
    """Fresh check results of every legacy account and credential row (nothing written).

    ``flagged`` counts rows per table; ``counts`` rows per "table: code"; ``samples`` names
    the first ``sample_limit`` flagged rows.
    """

    sample_limit: int = 50
    checked: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(self.flagged.values())

    def add(self, table: str, legacy_id: str, problems: list[nats_checks.Problem]) -> None:
        self.checked[table] = self.checked.get(table, 0) + 1
        if not problems:
            return
        self.flagged[table] = self.flagged.get(table, 0) + 1
        for problem in problems:
            key = f"{table}: {problem.code}"
            self.counts[key] = self.counts.get(key, 0) + 1
        if len(self.samples) < self.sample_limit:
            self.samples.append(f"{table}#{legacy_id}: {_describe(problems)}")


def audit(ctx: Context, sample_limit: int = 50, v: Verification | None = None) -> Audit:
    """Check every account and credential row afresh; with ``v``, also report users whose
    recorded flags (``nats_problems``) no longer match the check."""
    result = Audit(sample_limit=sample_limit)
    accounts = ctx.legacy(ACCOUNTS)
    if accounts is not None:
        for legacy_id, public_key, signing_key in ctx.stream(
            _account_rows(ctx, accounts), ctx.params()
        ):
            problems = nats_checks.check_account(public_key=public_key, signing_key=signing_key)
            result.add(ACCOUNTS, legacy_id, _unique(problems))
    creds = ctx.legacy(CREDENTIALS)
    if creds is not None:
        for row in ctx.stream(_credential_rows(ctx, creds, with_user=True), ctx.params()):
            problems = _unique(_check_credential(row, creds.has("expires_at")))
            result.add(CREDENTIALS, row[0], problems)
            user_id, recorded = row[10], row[11]
            if v is not None and user_id is not None and recorded != codes_text(problems):
                v.add(
                    Problem(
                        source=CREDENTIALS,
                        legacy_id=str(row[0]),
                        problem="nats_flags_differ",
                        detail=f"user {user_id} records {recorded!r}, the check finds"
                        f" {codes_text(problems)!r}",
                    )
                )
    return result
