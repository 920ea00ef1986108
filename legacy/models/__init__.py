"""Legacy tables (unmanaged, read-only) and the copy's own bookkeeping."""

from legacy.models.bookkeeping import Conflict, CopyRun, RowIssue, SuspendedForeignKey
from legacy.models.tables import (
    AuthClient,
    AuthUser,
    AuthUserApiKey,
    FastapiUser,
    NatsAccount,
    NatsAuthSession,
    NatsUserCredential,
    SharedUser,
    SharedUserApiKey,
    SharedUserProfile,
    SharedUserSession,
)

__all__ = [
    "AuthClient",
    "AuthUser",
    "AuthUserApiKey",
    "Conflict",
    "CopyRun",
    "FastapiUser",
    "NatsAccount",
    "NatsAuthSession",
    "NatsUserCredential",
    "RowIssue",
    "SharedUser",
    "SharedUserApiKey",
    "SharedUserProfile",
    "SharedUserSession",
    "SuspendedForeignKey",
]
