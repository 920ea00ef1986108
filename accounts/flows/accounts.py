"""Looking an account up by the address someone typed, as the login does."""

from __future__ import annotations

from accounts.models import User
from authcore.lib.emails import trim


def find_account(email: str | None) -> User | None:
    """The account whose address is ``email`` in any letter case and without blanks."""
    address = trim(email)
    if not address:
        return None
    try:
        return User.objects.get_by_natural_key(address)
    except User.DoesNotExist:
        return None
