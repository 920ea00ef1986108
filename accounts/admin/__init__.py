"""Admin pages for consolidated users (users.py) and what belongs to them (owned.py)."""

from accounts.admin.owned import (
    ApiKeyAdmin,
    LoginSessionAdmin,
    MembershipAdmin,
    ProfileAdmin,
    TenantAdmin,
    UserOriginAdmin,
)
from accounts.admin.users import (
    CopiedMembershipInline,
    MembershipInline,
    ProfileInline,
    UserAdmin,
)

__all__ = [
    "ApiKeyAdmin",
    "CopiedMembershipInline",
    "LoginSessionAdmin",
    "MembershipAdmin",
    "MembershipInline",
    "ProfileAdmin",
    "ProfileInline",
    "TenantAdmin",
    "UserAdmin",
    "UserOriginAdmin",
]
