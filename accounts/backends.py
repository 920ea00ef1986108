"""Login by email, in any letter case."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """ModelBackend, looking people up with UserManager.get_by_natural_key (email, any case).

    A subclass rather than ModelBackend itself because email is unique through a
    case-insensitive constraint, not ``unique=True``, and Django's auth.E003 accepts that
    only for a project's own backend (as the warning auth.W004, silenced in settings).
    """
