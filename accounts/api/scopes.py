"""What an API key's scopes let it do: the one place the API's scope names are defined.

A key's ``scopes`` is a comma-separated list, as the legacy services stored it; names are
compared without surrounding blanks and without regard to case.

| scope   | allows                                                                       |
| ------- | ---------------------------------------------------------------------------- |
| `read`  | GET, HEAD and OPTIONS on every route (listing one's keys shows no secret)     |
| `write` | `read`, and POST/PUT/PATCH/DELETE on the routes listed as WRITE below         |
| `keys`  | `read`, and managing credentials: revoking API keys, ending every login       |
| `admin` | everything an unscoped key can do (`*` means the same)                        |

- A key with no scopes (NULL, empty, or only commas and blanks) is an unscoped legacy key:
  it keeps full access, as before.
- Unknown names fail closed: they are ignored, so a key can do only what its known scopes
  allow, and a key whose scopes are all unknown can do nothing.
- An unsafe method on a route missing from ``ROUTES`` needs ``admin`` (or an unscoped key).
- Creating a key always takes a password login (``permissions.NewKeysNeedALogin``): no key,
  whatever its scopes, mints another, so a key can never make one wider than itself.
- JWT (password login) requests are not scope-limited.
"""

from __future__ import annotations

from collections.abc import Iterable

READ, WRITE, KEYS, ADMIN = "read", "write", "keys", "admin"
KNOWN = frozenset({READ, WRITE, KEYS, ADMIN})
ALIASES = {"*": ADMIN}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The scope each route needs for an unsafe method, by URL name. A route that changes
# something and is reachable with an API key must be listed (tests/test_api_key_scopes.py
# checks); one that is not needs ``admin``.
ROUTES: dict[str, str] = {
    "api-keys": KEYS,  # POST creates a key (and needs a password login besides)
    "api-key-revoke": KEYS,
    "api-logout-all": KEYS,
    "api-password-change": KEYS,  # and needs the old password besides
    "api-me": WRITE,  # PATCH: the caller's own names
    "api-tenant-users": WRITE,  # POST adds a member (owners and admins)
    "api-tenant-member": WRITE,  # PATCH a role, DELETE a member
    "fu-logout": KEYS,
    "fu-users-me": WRITE,  # a new password there takes a JWT besides
}


def parse(value: str | None) -> frozenset[str] | None:
    """The names in a stored ``scopes`` value, stripped and lower-cased; None if unscoped."""
    names = frozenset(
        ALIASES.get(name, name)
        for name in (n.strip().lower() for n in (value or "").split(","))
        if name
    )
    return names or None


def unknown(names: Iterable[str]) -> list[str]:
    """The names in ``names`` that are not scopes the API knows."""
    return sorted({n.strip().lower() for n in names if n.strip()} - KNOWN - set(ALIASES))


def needed(method: str, route: str | None) -> str:
    """The scope a request needs: ``read`` for a safe method, else the route's scope."""
    if method.upper() in SAFE_METHODS:
        return READ
    return ROUTES.get(route or "", ADMIN)


def allows(scopes: frozenset[str] | None, method: str, route: str | None) -> bool:
    """True if a key with ``scopes`` (from ``parse``) may make this request."""
    if scopes is None:
        return True  # an unscoped legacy key, as it always was
    granted = scopes & KNOWN
    if ADMIN in granted:
        return True
    need = needed(method, route)
    if need == READ:
        return bool(granted)  # write and keys include read
    return need in granted
