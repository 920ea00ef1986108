"""Login by email, in any letter case, behind django-axes' lockout, in equal time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password
from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import User


# Ignored: django-axes ships without type information (no py.typed), so its class is Any.
class LockoutBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' lockout check, for logins that come with a request.

    ``authenticate(None, ...)`` (a script, a management command) has no client to lock
    out and no address to count; axes would refuse it with an error, so it is let
    through to the next backend.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        # Returns nothing, or raises PermissionDenied for a locked-out client.
        super().authenticate(request, username, password, **kwargs)
        return None


def _check_is_not_hardened(encoded: str) -> bool:
    """Whether Django's failed check of ``encoded`` skips the default hasher's cost.

    True for a hash of any hasher but the default (first in PASSWORD_HASHERS). Django
    already pays one default hash for an unusable or unrecognised one, and hardens a
    default hash made with fewer iterations.
    """
    try:
        return identify_hasher(encoded).algorithm != get_hasher("default").algorithm
    except ValueError:
        return False


class EmailBackend(ModelBackend):
    """ModelBackend, looking people up with UserManager.get_by_natural_key (email, any case).

    A subclass rather than ModelBackend itself because email is unique through a
    case-insensitive constraint, not ``unique=True``, and Django's auth.E003 accepts that
    only for a project's own backend (as the warning auth.W004, silenced in settings).

    A login takes as long whether the address is unknown, or its password a legacy hash
    or the default one: Django pays one default hash for an unknown address and
    hardens a failed check of the default hasher only; a failed check of any other
    hasher (a legacy bcrypt is several times faster) also pays one default hash here.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            make_password(password)  # the cost of a check, for an address nobody has
            return None
        stored = user.password
        if user.check_password(password):
            # A right legacy password was re-hashed with the default: that paid the cost.
            return user if self.user_can_authenticate(user) else None
        if _check_is_not_hardened(stored):
            make_password(password)
        return None
