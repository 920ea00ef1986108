"""NATS credentials: ``nats_account``, ``nats_user_credential`` and ``nats_auth_session``.

Runs after every person exists: owners are ``users`` rows, found through UserOrigin. The
copy is nats/copy.py (its docstring has the steps), the checks of keys and JWTs
nats/checks.py, --verify, --sync and the reverse nats/verify.py.
"""

from __future__ import annotations

from legacy.engine.nats.checks import FLUSH_ROWS, Audit, audit, codes_text
from legacy.engine.nats.common import (
    ACCOUNTS,
    CREDENTIALS,
    DESCRIPTION,
    NAME,
    OWNER_SOURCE,
    SESSIONS,
    SUPERSEDED,
    TABLES,
    USER_FIELDS,
    session_rows,
)
from legacy.engine.nats.copy import census, copy
from legacy.engine.nats.verify import reverse, sync, verify, verify_and_audit

__all__ = [
    "ACCOUNTS",
    "CREDENTIALS",
    "DESCRIPTION",
    "FLUSH_ROWS",
    "NAME",
    "OWNER_SOURCE",
    "SESSIONS",
    "SUPERSEDED",
    "TABLES",
    "USER_FIELDS",
    "Audit",
    "audit",
    "census",
    "codes_text",
    "copy",
    "reverse",
    "session_rows",
    "sync",
    "verify",
    "verify_and_audit",
]
