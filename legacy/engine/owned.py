"""Rows that belong to a legacy user (API keys, profiles, sessions) onto consolidated users.

A row is copied only when its owner's row was copied, so it lands on the right person;
otherwise it is rejected as owner_missing or owner_rejected. Where the row carries a
sha256 digest (an API key, a session token) the digest must be 64 hex characters
(digest_invalid) and lead to exactly one row (digest_duplicate), across every legacy
table that feeds the same model. A model that allows one row per user (profiles) keeps
the row of the person's winning legacy row and rejects the others as already_has_one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

from django.db import DataError, IntegrityError

from legacy.catalog import (
    ALREADY_HAS_ONE,
    DIGEST_DUPLICATE,
    DIGEST_INVALID,
    HOLD_KINDS,
    OWNER_MISSING,
    OWNER_REJECTED,
    REFUSED_BY_DATABASE,
)
from legacy.engine.context import Context
from legacy.engine.foreign_keys import checked_afterwards
from legacy.engine.issues import (
    REJECTED,
    WARNING,
    clear_fixed,
    count_issues,
    has_fixed_rows,
    record_issues,
    rejection_on_record,
    was_rejected,
)
from legacy.engine.report import Verification
from legacy.engine.schema import LegacyTable
from legacy.engine.sql import Params
from legacy.engine.trust import (
    copied_when_held,
    held_reason,
    held_rows,
    holds_supported,
    in_force,
    record_holds,
    unhold_released,
)
from legacy.engine.verify import account_for, report_held, report_rows

# A sha256 digest as the legacy tables keep it: 64 lower-case hex characters.
SHA256_HEX_LENGTH = 64
NOT_HEX = "[^0-9a-f]"


class Narrowing(NamedTuple):
    """A way a copied row could give more access than its legacy row now does.

    ``condition`` (over the legacy row ``s`` and the copied row ``t``) finds such rows:
    --verify reports them as ``problem``, and --sync applies ``fix``, pairs of (column,
    value from the legacy row); a narrowing without a fix is only reported.
    """

    problem: str
    condition: str
    fix: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OwnedRows:
    """How one legacy table of user-owned rows maps onto a consolidated model.

    ``values`` maps target columns to SQL over alias ``s`` (the legacy row). ``warnings``
    are (reason, condition) pairs: rows copied, but reported. ``when_deleted`` are the
    (column, value) assignments --sync makes when the legacy row is gone (the first
    column must be NULL for it to apply, e.g. revoked_at).
    """

    target: str
    owner_source: str
    values: dict[str, str]
    digest: tuple[str, str] | None = None  # (target column, legacy column)
    one_per_user: bool = False
    warnings: tuple[tuple[str, str], ...] = ()
    never_wider: tuple[Narrowing, ...] = field(default=())
    when_deleted: tuple[tuple[str, str], ...] = ()


def legacy_digest(ctx: Context, spec: OwnedRows, params: Params, alias: str = "s") -> str:
    """SQL: the digest of legacy row ``alias`` as the copy stores it (trimmed, lower case)."""
    assert spec.digest is not None
    legacy_column = f"{alias}.{ctx.dialect.quote(spec.digest[1])}"
    return f"LOWER({ctx.dialect.trim_blanks(ctx.dialect.as_text(legacy_column), params)})"


def is_sha256_hex(ctx: Context, digest: str, params: Params) -> str:
    """SQL: ``digest`` is 64 hex characters.

    The length, then a search for one character that is not hex: PostgreSQL runs a
    counted repetition such as ^[0-9a-f]{64}$ far slower (docs/performance.md).
    """
    return (
        f"LENGTH({digest}) = {SHA256_HEX_LENGTH}"
        f" AND NOT ({ctx.dialect.matches(digest, params.add(NOT_HEX, 'not_hex_re'))})"
    )


def _new_rows(ctx: Context, table: LegacyTable, spec: OwnedRows, params: Params) -> str:
    """The rows not copied yet, with their owner and the reason to reject them (or NULL)."""
    d = ctx.dialect
    target, origin = ctx.table_of(spec.target), ctx.table_of("accounts.UserOrigin")
    owner_id = d.as_text("s.user_id")
    reasons = [
        f"WHEN o.user_id IS NULL"
        f" AND {rejection_on_record(ctx, owner_id, params, '%(owner_source)s')}"
        f" THEN {params.add(OWNER_REJECTED)}",
        f"WHEN o.user_id IS NULL THEN {params.add(OWNER_MISSING)}",
    ]
    columns = [f"{expr} AS {d.quote(name)}" for name, expr in spec.values.items()]
    # A row of a merged person row that proves nothing is held (legacy/engine/trust.py).
    hold = held_reason(ctx, "o", "%(source)s", d.as_text("s.id"), params)
    if spec.digest is not None:
        column = d.quote(spec.digest[0])
        digest = legacy_digest(ctx, spec, params)
        is_hex = is_sha256_hex(ctx, digest, params)
        reasons += [
            f"WHEN s.{d.quote(spec.digest[1])} IS NULL OR NOT ({is_hex})"
            f" THEN {params.add(DIGEST_INVALID)}",
            f"WHEN EXISTS (SELECT 1 FROM {target} t WHERE t.{column} = {digest})"
            f" OR ROW_NUMBER() OVER (PARTITION BY {digest} ORDER BY s.id) > 1"
            f" THEN {params.add(DIGEST_DUPLICATE)}",
        ]
        columns.append(f"{digest} AS {column}")
    if spec.one_per_user:
        # The row of the person's winning legacy row first, then the lowest id.
        user = ctx.table_of("accounts.User")
        winner_first = (
            f"CASE WHEN EXISTS (SELECT 1 FROM {user} u WHERE u.id = o.user_id"
            f" AND u.legacy_source = %(owner_source)s AND u.legacy_id = {owner_id})"
            f" THEN 0 ELSE 1 END"
        )
        # A held row is never attached, so it takes no user's place.
        held_last = f"CASE WHEN {hold} IS NULL THEN 0 ELSE 1 END"
        reasons.append(
            f"WHEN {hold} IS NULL AND (EXISTS (SELECT 1 FROM {target} t"
            f" WHERE t.user_id = o.user_id) OR ROW_NUMBER() OVER (PARTITION BY o.user_id"
            f" ORDER BY {held_last}, {winner_first}, s.id) > 1)"
            f" THEN {params.add(ALREADY_HAS_ONE)}"
        )
    warnings = " ".join(
        f"WHEN {condition} THEN {params.add(reason)}" for reason, condition in spec.warnings
    )
    return (
        f"SELECT s.id AS legacy_pk, {d.as_text('s.id')} AS legacy_id, o.user_id AS owner,"
        f" {owner_id} AS owner_legacy_id, {', '.join(columns)},"
        f" CASE {' '.join(reasons)} END AS reject_reason,"
        f" {f'CASE {warnings} END' if warnings else 'NULL'} AS warning, {hold} AS hold,"
        f" {was_rejected(ctx, d.as_text('s.id'), params)} AS was_rejected"
        f" FROM {table.sql} s"
        f" LEFT JOIN {origin} o ON o.source = %(owner_source)s AND o.legacy_id = {owner_id}"
        f" WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.legacy_source = %(source)s"
        f" AND t.legacy_id = {d.as_text('s.id')}){_not_held_now(ctx, spec, params)}"
    )


def _not_held_now(ctx: Context, spec: OwnedRows, params: Params) -> str:
    """SQL: leaves out the rows held now that are never copied while held (profiles): their
    hold is on record, and staging them again at every run would only find it there."""
    if copied_when_held(ctx, spec.target) or not holds_supported(ctx):
        return ""
    return f" AND NOT {in_force(ctx, '%(source)s', ctx.dialect.as_text('s.id'), params)}"


def copy_owned(ctx: Context, table: LegacyTable, spec: OwnedRows) -> None:
    """Copy the rows of ``table`` that have not been copied yet (see the module docstring)."""
    result = ctx.report.table(table.key)
    result.rows = ctx.legacy_rows(table)
    params = ctx.params(source=table.key, owner_source=spec.owner_source)
    if copied_when_held(ctx, spec.target):
        result.released += unhold_released(ctx, spec.target, table.key)
    # One pass over the legacy table; the steps below read the staged rows.
    staged = ctx.stage(
        f"owned_{table.key}", _new_rows(ctx, table, spec, params), params, "n.legacy_pk"
    )
    fixed = has_fixed_rows(ctx, staged)
    total = ctx.count(staged)
    units = RefusedRows(table.key, staged)
    copy_chunk = partial(_copy_chunk, ctx, table, spec, params=params, fixed=fixed)
    with checked_afterwards(ctx, total, spec.target):
        for low, high in ctx.unit_ranges(table.key, total):
            units.copy_unit(ctx, low, high, copy_chunk)
    ctx.drop_stage(staged)
    ctx.planner.grown(spec.target)
    result.rejected = count_issues(ctx, table.key, REJECTED)
    result.warnings = count_issues(ctx, table.key, WARNING)
    # Less the rows held and not copied, which the run's end counts (trust.note_held).
    result.already_done = max(result.rows - result.rejected - result.copied, 0)


# Rows of one table the database may refuse before the copy stops (``RefusedRows``).
REFUSED_ROWS_LIMIT = 100


@dataclass
class RefusedRows:
    """Units of staged rows, each copied whole, or narrowed to the rows the database refuses.

    The table's values are checked before they are copied, but a legacy table can hold
    what no check foresaw (a column wider than authcore's, a NULL where a constraint was
    dropped): the database then refuses the unit's insert, in its own words and naming
    no row. Such a unit is split in halves until the refused rows are found; each is
    recorded as rejected (``refused_by_database``, with the database's message, in the
    legacy row's name) and left out, and the rest of the unit is copied. A later run
    tries the row again, as the cause may have been fixed. Past ``REFUSED_ROWS_LIMIT``
    rows refused in one table the copy stops, naming the first: a cause that wide is a
    schema to fix, and narrowing row by row would take longer than the copy.
    """

    table_key: str
    staged: str
    count: int = 0
    first: str = ""

    def copy_unit(self, ctx: Context, low: int, high: int, work: Callable[[str], object]) -> None:
        """Run ``work`` over staged rows ``low`` to ``high`` in one unit, or narrow it."""
        result = ctx.report.table(self.table_key)
        copied = result.copied
        try:
            with ctx.unit(reads_legacy=False):
                work(ctx.unit_rows(self.staged, low, high))
            return
        except (DataError, IntegrityError) as exc:
            result.copied = copied  # undone with the unit
            if low < high:
                middle = (low + high) // 2
                self.copy_unit(ctx, low, middle, work)
                self.copy_unit(ctx, middle + 1, high, work)
                return
            self._reject(ctx, low, exc)
        with ctx.unit(reads_legacy=False):  # the row now rejected, recorded as such
            work(ctx.unit_rows(self.staged, low, high))

    def _reject(self, ctx: Context, seq: int, exc: Exception) -> None:
        # The primary message only: PostgreSQL's detail repeats the row's values (digests).
        diag = getattr(exc.__cause__, "diag", None)
        words = getattr(diag, "message_primary", None) or str(exc)
        message = " ".join(words.split())[:500] or exc.__class__.__name__
        legacy_id = ctx.rows(
            f"SELECT legacy_id FROM {self.staged} WHERE seq = {int(seq)}", Params()
        )[0][0]
        self.count += 1
        self.first = self.first or f"{self.table_key}#{legacy_id}: {message}"
        if self.count > REFUSED_ROWS_LIMIT:
            raise DataError(
                f"more than {REFUSED_ROWS_LIMIT} rows of {self.table_key} refused by the database;"
                f" the first, {self.first}"
            ) from exc
        params = ctx.params(source=self.table_key)
        with ctx.unit(reads_legacy=False):
            record_issues(
                ctx,
                self.table_key,
                REJECTED,
                f"SELECT n.legacy_id, {params.add(REFUSED_BY_DATABASE)} AS reason,"
                f" {params.add(message)} AS detail FROM {self.staged} n WHERE n.seq = {int(seq)}",
                params,
            )
            ctx.execute(
                f"UPDATE {self.staged} SET reject_reason = {params.add(REFUSED_BY_DATABASE)}"
                f" WHERE seq = {int(seq)}",
                params,
            )


def _copy_chunk(
    ctx: Context, table: LegacyTable, spec: OwnedRows, new: str, params: Params, fixed: bool
) -> None:
    """Record the chunk's rejected and warned rows, and copy the rest."""
    d = ctx.dialect
    target = ctx.table_of(spec.target)
    record_issues(
        ctx,
        table.key,
        REJECTED,
        f"SELECT n.legacy_id, n.reject_reason AS reason,"
        f" 'owner ' || %(owner_source)s || '#' || COALESCE(n.owner_legacy_id, '?')"
        f" AS detail FROM {new} n WHERE n.reject_reason IS NOT NULL",
        params,
    )
    if spec.warnings:
        record_issues(
            ctx,
            table.key,
            WARNING,
            f"SELECT n.legacy_id, n.warning AS reason, '' AS detail"
            f" FROM {new} n WHERE n.reject_reason IS NULL AND n.warning IS NOT NULL",
            params,
        )
    if holds_supported(ctx):
        record_holds(
            ctx,
            HOLD_KINDS[spec.target],
            table.key,
            f"SELECT n.owner AS user_id, n.legacy_id, %(owner_source)s AS owner_source,"
            f" n.owner_legacy_id, n.hold AS reason,"
            f" 'of ' || %(owner_source)s || '#' || n.owner_legacy_id"
            f" || ', a merged row whose address was never proven' AS detail"
            f" FROM {new} n WHERE n.reject_reason IS NULL AND n.hold IS NOT NULL",
            params,
        )
    names = list(spec.values) + ([spec.digest[0]] if spec.digest else [])
    taken = "n.reject_reason IS NULL"
    if copied_when_held(ctx, spec.target):
        names.append("held")
    elif holds_supported(ctx):
        taken += " AND n.hold IS NULL"
    quoted = ", ".join(d.quote(name) for name in names)
    selected = ", ".join(
        "n.hold IS NOT NULL" if name == "held" else f"n.{d.quote(name)}" for name in names
    )
    copied = ctx.execute(
        f"INSERT INTO {target} (user_id, {quoted}, legacy_source, legacy_id)"
        f" SELECT n.owner, {selected}, %(source)s, n.legacy_id FROM {new} n WHERE {taken}",
        params,
    )
    ctx.report.table(table.key).copied += copied
    if fixed:
        clear_fixed(ctx, table.key, new)
    ctx.planner.grew(spec.target, copied, plans_unchanged=True)  # the step never reads it


def verify_owned(ctx: Context, table: LegacyTable, spec: OwnedRows, v: Verification) -> None:
    """Every row copied or rejected; copied rows on the same person, never wider access."""
    d = ctx.dialect
    target, origin = ctx.table_of(spec.target), ctx.table_of("accounts.UserOrigin")
    params = ctx.params(source=table.key, owner_source=spec.owner_source)
    copied = f"SELECT t.legacy_id FROM {target} t WHERE t.legacy_source = %(source)s"
    accounted = copied
    if holds_supported(ctx):
        accounted = f"{copied} UNION ALL {held_rows(ctx, table.key, params)}"
        report_held(ctx, v, table.key, params)
    account_for(ctx, v, table, copied, params, accounted)
    joined = (
        f" FROM {table.sql} s"
        f" JOIN {target} t ON t.legacy_source = %(source)s AND t.legacy_id = {d.as_text('s.id')}"
        f" LEFT JOIN {origin} o ON o.source = %(owner_source)s"
        f" AND o.legacy_id = {d.as_text('s.user_id')}"
    )
    checks = [("owner_differs", "o.user_id IS NULL OR t.user_id <> o.user_id")]
    if spec.digest is not None:
        column = d.quote(spec.digest[0])
        digest = legacy_digest(ctx, spec, params)
        checks.append(("digest_differs", d.distinct(f"t.{column}", digest)))
    checks += [(narrowing.problem, narrowing.condition) for narrowing in spec.never_wider]
    for problem, condition in checks:
        sql = f"SELECT t.legacy_id, ''{joined} WHERE {condition}"
        report_rows(ctx, v, table.key, problem, sql, params)
