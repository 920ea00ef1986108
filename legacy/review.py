"""Decisions on what the copy could not decide: held items, conflicts and rejected rows.

Called by the admin's review queue (legacy/admin/review_queue.py). A decision is recorded on
the item, with who and when, and no later run undoes it. Releasing a held item lets the
copy make exactly what it would have made had the item never been held: the copy of its
source runs at once (or, if another copy is running, at that copy's next run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import RoleGroup, User
from legacy import catalog
from legacy.catalog import DISMISSED, RELEASED
from legacy.engine import CopyInProgress, copy_legacy
from legacy.models import Conflict, Hold

# What a conflict's decision is recorded as.
LEGACY_TAKEN, KEPT = "legacy_taken", "kept"
# Conflicts whose legacy value a person may take: a role (granted as its group) and the
# free-text names. Passwords are never shown, and rights or activity only ever narrow.
TAKEABLE_FIELDS = ("role", "username", "full_name")


@dataclass
class Outcome:
    """What a decision did, for the admin's message."""

    decided: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


def _stamp(queryset: QuerySet[Any], decision: str, by: User) -> int:
    return queryset.update(decision=decision, decided_by=by, decided_at=timezone.now())


def release(holds: QuerySet[Hold], by: User, using: str = DEFAULT_DB_ALIAS) -> Outcome:
    """Let held items through: each becomes what an unheld copy would have made (a revoked
    key stays revoked), by the copy of its source."""
    holds = holds.exclude(decision=RELEASED)
    sources = sorted({_source_of(hold) for hold in holds.only("kind", "source")})
    outcome = Outcome(decided=_stamp(holds, RELEASED, by))
    if outcome.decided:
        try:
            copy_legacy(apps, using=using, sources=sources, trigger="review")
        except CopyInProgress:
            outcome.notes.append("a copy is running: the next run applies the release")
    return outcome


def _source_of(hold: Hold) -> str:
    """The engine source whose copy makes a held item (memberships: the tenants' copy of
    ``users.client_id``)."""
    if hold.kind == Hold.Kind.MEMBERSHIP:
        return catalog.BY_KEY["clients"].source
    return catalog.BY_KEY[hold.source].source


def dismiss(items: Iterable[QuerySet[Any]], by: User) -> Outcome:
    """Keep items as they are, recorded as decided (a held item stays held)."""
    outcome = Outcome()
    for queryset in items:
        outcome.decided += _stamp(queryset.filter(decision=""), DISMISSED, by)
    return outcome


def keep_authcore_value(conflicts: QuerySet[Conflict], by: User) -> Outcome:
    """Keep what authcore has: the conflict is decided, nothing changes."""
    return Outcome(decided=_stamp(conflicts.filter(decision=""), KEPT, by))


@transaction.atomic
def take_legacy_value(conflicts: QuerySet[Conflict], by: User) -> Outcome:
    """Give the user the merged row's value: its role (as the role's group) or its name.

    Other fields are skipped: a password is never shown, and activity and superuser rights
    come only from the winning row.
    """
    outcome = Outcome()
    for conflict in conflicts.filter(decision="").select_related("user"):
        if conflict.field not in TAKEABLE_FIELDS or conflict.other_value is None:
            outcome.skipped += 1
            continue
        if conflict.field == "role":
            _grant_role(conflict.user, conflict.other_value)
        else:
            setattr(conflict.user, conflict.field, conflict.other_value)
            conflict.user.save(update_fields=[conflict.field])
        outcome.decided += _stamp(Conflict.objects.filter(pk=conflict.pk), LEGACY_TAKEN, by)
    if outcome.skipped:
        outcome.notes.append(
            f"{outcome.skipped} conflict(s) have no value to take"
            f" (only {', '.join(TAKEABLE_FIELDS)} can be taken)"
        )
    return outcome


def _grant_role(user: User, role: str) -> None:
    """Add ``user`` to the group of legacy role ``role``, made as the copy makes it."""
    group, created = Group.objects.get_or_create(name=role)
    RoleGroup.objects.get_or_create(group=group, defaults={"created_by_copy": created})
    user.groups.add(group)
