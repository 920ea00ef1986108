"""API keys from either legacy key table: digests unchanged, so old tokens keep working."""

from __future__ import annotations

from legacy.engine.owned import Narrowing, OwnedRows


def api_key_rows(
    *,
    owner_source: str,
    prefix: str,
    scopes: str,
    is_active: str,
    created_at: str,
    last_used_at: str,
    expires_at: str,
    revoked_at: str,
) -> OwnedRows:
    """How a legacy key table maps onto accounts.ApiKey (SQL expressions over alias ``s``).

    --verify flags a copied key that is usable where the legacy one was not: active,
    unrevoked or longer-lived.
    """
    active = f"COALESCE({is_active}, FALSE)"
    return OwnedRows(
        target="accounts.ApiKey",
        owner_source=owner_source,
        values={
            "name": "s.name",
            "prefix": prefix,
            "scopes": scopes,
            "is_active": active,
            "created_at": f"COALESCE({created_at}, %(now)s)",
            "last_used_at": last_used_at,
            "expires_at": expires_at,
            "revoked_at": revoked_at,
        },
        digest=("digest", "key_hash"),
        never_wider=(
            Narrowing(
                "active_but_inactive_in_legacy",
                f"t.is_active AND NOT {active}",
                (("is_active", "FALSE"),),
            ),
            Narrowing(
                "revoked_in_legacy",
                f"t.revoked_at IS NULL AND {revoked_at} IS NOT NULL",
                (("revoked_at", revoked_at), ("is_active", "FALSE")),
            ),
            Narrowing(
                "expires_later_than_legacy",
                f"{expires_at} IS NOT NULL"
                f" AND (t.expires_at IS NULL OR t.expires_at > {expires_at})",
                (("expires_at", expires_at),),
            ),
        ),
        when_deleted=(("revoked_at", "%(now)s"), ("is_active", "FALSE")),
    )
