"""One policy for telling login attempts apart: which client, which account.

django-axes (failed logins, every login path) and DRF's login throttle (every attempt at
the API's login) both count by the values these functions give, in the shared cache.
"""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

# One IPv6 host usually holds a whole /64: counted one by one, its addresses would give
# an attacker 2**64 fresh starts.
IPV6_PREFIX = 64
# The form fields that name the account: the admin's login form, and the API's.
USERNAME_FIELDS = ("username", "email")


def client_address(request: HttpRequest) -> str | None:
    """The client's address as DRF tells it (X-Forwarded-For only past NUM_PROXIES).

    An IPv6 address stands for its /64 network.
    """
    # get_ident reads request.META only, which Django's requests have as DRF's do.
    ident = BaseThrottle().get_ident(cast(Request, request))
    if not ident:
        return None
    try:
        address = ipaddress.ip_address(ident)
    except ValueError:
        return ident
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def account_key(value: Any) -> str | None:
    """The account a login names, as the lookup finds it: trimmed, in any letter case."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account of a login attempt, for django-axes (AXES_USERNAME_CALLABLE).

    Read from the credentials given to authenticate(), else from the posted form, so
    that ``Ada@Example.com`` and `` ada@example.com`` count against one account.
    """
    sources: list[Any] = [credentials or {}]
    if request is not None:
        sources.append(getattr(request, "data", None) or getattr(request, "POST", {}))
    for source in sources:
        for field in USERNAME_FIELDS:
            try:
                value = source.get(field)
            except AttributeError:
                continue
            if value is not None:
                return account_key(value)
    return None


class LoginRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, by the same client address as the lockout."""

    def get_ident(self, request: HttpRequest) -> str:
        return client_address(request) or ""
