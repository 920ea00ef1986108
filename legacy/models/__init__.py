"""Legacy tables (unmanaged, read-only) and the copy's own bookkeeping."""

from legacy.models.bookkeeping import (
    Conflict,
    CopyRun,
    Hold,
    ReviewItem,
    RowIssue,
    SuspendedForeignKey,
)
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
    "Hold",
    "NatsAccount",
    "NatsAuthSession",
    "NatsUserCredential",
    "ReviewItem",
    "RowIssue",
    "SharedUser",
    "SharedUserApiKey",
    "SharedUserProfile",
    "SharedUserSession",
    "SuspendedForeignKey",
]
