"""Account events as structured log lines: what happened, to which account, never a secret.

Each line goes to the ``authcore.events`` logger with ``event`` and the ids it concerns;
the request id is added by authcore.logs. Addresses a person typed are masked: a login
form's username field sometimes holds a password typed one field too early.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed

logger = logging.getLogger("authcore.events")

LOGIN_SUCCEEDED = "login_succeeded"
LOGIN_FAILED = "login_failed"
API_KEY_USED = "api_key_used"
SIGNED_UP = "signed_up"
SIGN_UP_EXISTING = "sign_up_for_existing_account"
VERIFICATION_REQUESTED = "verification_requested"
VERIFIED = "email_verified"
PASSWORD_RESET_REQUESTED = "password_reset_requested"
PASSWORD_RESET = "password_reset"
PASSWORD_CHANGED = "password_changed"
PROFILE_CHANGED = "profile_changed"
TENANT_CHANGED = "tenant_membership_changed"
LOGGED_OUT = "logged_out"


def mask_address(value: Any) -> str:
    """``a***@example.com`` for an address, ``***`` for anything else."""
    if not isinstance(value, str) or "@" not in value:
        return "***"
    local, _, domain = value.strip().rpartition("@")
    return f"{local[:1]}***@{domain}"


def log_event(event: str, **fields: Any) -> None:
    """One line for ``event``; ``fields`` are ids and masked addresses, never secrets."""
    logger.info(event, extra={"event": event, **fields})


def _logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    log_event(LOGIN_SUCCEEDED, user_id=getattr(user, "pk", None), via="session")


def _login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **kwargs: Any
) -> None:
    # Django has already replaced the password in ``credentials``; only the account is kept.
    account = (credentials or {}).get("username") or (credentials or {}).get("email")
    log_event(LOGIN_FAILED, account=mask_address(account))


def connect_signals() -> None:
    """Called from AppConfig.ready(): logins through any path are logged."""
    user_logged_in.connect(_logged_in, dispatch_uid="accounts.flows.events.logged_in")
    user_login_failed.connect(_login_failed, dispatch_uid="accounts.flows.events.login_failed")
