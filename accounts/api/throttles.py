"""Throttles of the account flows: the login's policy (client address, shared cache)."""

from __future__ import annotations

from django.conf import settings

from accounts.throttling import LoginRateThrottle

ACCOUNT_SCOPE = "account"


class AccountRateThrottle(LoginRateThrottle):
    """Sign-up, verification, reset and change of password, for views whose
    ``throttle_scope`` is ``account``: counted like the login, under the ``account``
    rate, or the login's rate where no such rate is set."""

    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        own = rates.get(self.scope) if self.scope is not None else None
        return own or rates.get("login")
