"""Legacy API keys onto consolidated users, digests unchanged so old tokens keep working.

A key is copied only when its owner's row was copied (else: owner_missing or
owner_rejected), its digest is 64 hex characters (digest_invalid) and no other key has
the same digest (digest_duplicate): a digest must lead to exactly one person.
"""

from __future__ import annotations

from dataclasses import dataclass

from legacy.engine.context import Context
from legacy.engine.issues import REJECTED, clear_resolved, count_issues, record_issues
from legacy.engine.schema import LegacyTable

SHA256_HEX = "^[0-9a-f]{64}$"


@dataclass(frozen=True)
class KeyColumns:
    """SQL expressions over alias ``s`` giving a legacy key table's values."""

    owner_source: str  # the legacy user table the key's user_id points into
    prefix: str
    scopes: str
    is_active: str
    last_used_at: str
    expires_at: str
    revoked_at: str


def copy_api_keys(ctx: Context, table: LegacyTable, cols: KeyColumns) -> None:
    """Copy the keys of ``table`` that have not been copied yet."""
    d = ctx.dialect
    result = ctx.report.table(table.key)
    key, origin = ctx.table_of("accounts.ApiKey"), ctx.table_of("accounts.UserOrigin")
    issue = ctx.table_of("legacy.RowIssue")
    params = ctx.params(source=table.key, owner_source=cols.owner_source)
    digest = f"LOWER({d.trim_blanks(d.as_text('s.key_hash'), params)})"
    hex_pattern = params.add(SHA256_HEX, "hex_re")
    owner_id = d.as_text("s.user_id")
    new_keys = (
        f"SELECT s.id AS legacy_pk, {d.as_text('s.id')} AS legacy_id, o.user_id AS owner,"
        f" {digest} AS digest, s.name AS name, {cols.prefix} AS prefix,"
        f" {cols.scopes} AS scopes, COALESCE({cols.is_active}, FALSE) AS is_active,"
        f" COALESCE(s.created_at, %(now)s) AS created_at, {cols.last_used_at} AS last_used_at,"
        f" {cols.expires_at} AS expires_at, {cols.revoked_at} AS revoked_at,"
        f" CASE WHEN o.user_id IS NULL AND EXISTS (SELECT 1 FROM {issue} i"
        f"  WHERE i.source = %(owner_source)s AND i.legacy_id = {owner_id}"
        f"  AND i.kind = {params.add(REJECTED)}) THEN {params.add('owner_rejected')}"
        f" WHEN o.user_id IS NULL THEN {params.add('owner_missing')}"
        f" WHEN s.key_hash IS NULL OR NOT ({d.matches(digest, hex_pattern)})"
        f"  THEN {params.add('digest_invalid')}"
        f" WHEN EXISTS (SELECT 1 FROM {key} a WHERE a.digest = {digest})"
        f"  OR ROW_NUMBER() OVER (PARTITION BY {digest} ORDER BY s.id) > 1"
        f"  THEN {params.add('digest_duplicate')}"
        f" END AS reject_reason,"
        f" {owner_id} AS owner_legacy_id"
        f" FROM {table.sql} s"
        f" LEFT JOIN {origin} o ON o.source = %(owner_source)s AND o.legacy_id = {owner_id}"
        f" WHERE NOT EXISTS (SELECT 1 FROM {key} a WHERE a.legacy_source = %(source)s"
        f" AND a.legacy_id = {d.as_text('s.id')})"
    )
    record_issues(
        ctx,
        table.key,
        REJECTED,
        f"SELECT n.legacy_id, n.reject_reason AS reason,"
        f" 'owner ' || %(owner_source)s || '#' || COALESCE(n.owner_legacy_id, '?') AS detail"
        f" FROM ({new_keys}) n WHERE n.reject_reason IS NOT NULL",
        params,
    )
    result.copied += ctx.execute(
        f"INSERT INTO {key} (user_id, name, prefix, digest, scopes, is_active, created_at,"
        f" last_used_at, expires_at, revoked_at, legacy_source, legacy_id)"
        f" SELECT n.owner, n.name, n.prefix, n.digest, n.scopes, n.is_active, n.created_at,"
        f" n.last_used_at, n.expires_at, n.revoked_at, %(source)s, n.legacy_id"
        f" FROM ({new_keys}) n WHERE n.reject_reason IS NULL",
        params,
    )
    clear_resolved(
        ctx,
        table.key,
        f"SELECT a.legacy_id FROM {key} a WHERE a.legacy_source = %(issue_source)s",
    )
    result.rows = ctx.count(table.sql)
    result.rejected = count_issues(ctx, table.key, REJECTED)
    result.already_done = max(result.rows - result.rejected - result.copied, 0)
