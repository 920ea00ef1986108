"""Which edits of a credential would give access back: an admin may take access away, never
give it (a key that should work again is a new key, issued through the API).

Pure functions over the field values before and after an edit; the admin applies them to
every form of these models (authcore/lib/admin_guard.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENDS = "ends"
"""A time the credential stops working at (None: never): set or moved earlier only."""
ACTIVE = "active"
"""A switch that lets the credential work: turned off only."""
HELD = "held"
"""Held for review: released only by the review queue, never by an edit."""
FIXED = "fixed"
"""Who or what the credential is: never changed (moving it hands it to someone else)."""
SCOPES = "scopes"
"""Comma-separated scopes: entries removed from a list that keeps at least one."""

RULES: dict[str, dict[str, str]] = {
    "accounts.ApiKey": {
        "user": FIXED,
        "digest": FIXED,
        "is_active": ACTIVE,
        "revoked_at": ENDS,
        "expires_at": ENDS,
        "held": HELD,
        "scopes": SCOPES,
    },
    "accounts.LoginSession": {
        "user": FIXED,
        "token_digest": FIXED,
        "revoked_at": ENDS,
        "expires_at": ENDS,
        "held": HELD,
    },
    "natscreds.NatsAuthSession": {
        "user": FIXED,
        "account": FIXED,
        "closed_at": ENDS,
        "expires_at": ENDS,
    },
}
"""Model label -> field -> the rule an edit of it must keep."""

NEW_REFUSED = "a new one is issued through the API (or a login), never added here"


def rules_for(label: str) -> dict[str, str]:
    """The rules of model ``label``; empty for a model that grants no access."""
    return RULES.get(label, {})


def _scopes(value: str | None) -> set[str]:
    return {scope.strip() for scope in (value or "").split(",") if scope.strip()}


def _widens(rule: str, before: Any, after: Any) -> bool:
    if rule == ENDS:
        # None means "never": clearing an end, or moving it later, gives time back.
        return before is not None and (after is None or after > before)
    if rule == ACTIVE:
        return not before and bool(after)
    if rule == HELD:
        return bool(before) and not after
    if rule == SCOPES:
        # An empty list may mean "unrestricted" to the services that read it, so emptying
        # one, or filling an empty one, is not known to narrow: only a smaller list does.
        old, new = _scopes(before), _scopes(after)
        return old != new and not (new and new < old)
    return bool(before != after)  # FIXED


_REASONS = {
    ENDS: "clearing it or moving it later would give access back",
    ACTIVE: "turning it back on would give access back",
    HELD: "a held item is released only through the review queue",
    FIXED: "cannot be changed",
    SCOPES: "scopes can only be removed, leaving at least one",
}


def widenings(label: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """Why the edit from ``before`` to ``after`` would widen access; empty if it does not.

    ``before`` is None for a row that does not exist yet: a new credential is refused
    outright. Values are compared as given (foreign keys by their primary key).
    """
    rules = rules_for(label)
    if not rules:
        return []
    if before is None:
        return [NEW_REFUSED]
    return [
        f"{field}: {_REASONS[rule]}"
        for field, rule in rules.items()
        if field in before and field in after and _widens(rule, before[field], after[field])
    ]
