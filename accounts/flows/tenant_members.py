"""Tenant members: add (or invite), change a role, remove; and invitations accepted.

Roles are ordered, owner > admin > member > readonly (a legacy role the API does not
know ranks below them all). The rules, checked with the tenant's row locked so two
changes at once cannot both pass on what the other is about to undo:

- only owners and admins manage members (anyone may leave a tenant);
- nobody grants a role above their own, so only owners make owners;
- nobody changes or removes a member whose role is above their own;
- the last owner can be neither removed nor demoted.

An invitation grants its role once, to the account holding its address once that
address is verified, while it has not expired, and only if the person who invited
could still grant that role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.http import urlencode

from accounts.flows import emails, events
from accounts.flows.accounts import find_account
from accounts.membership_models import Invitation, MembershipChange
from accounts.models import Membership, Tenant, User
from authcore.lib.emails import trim

OWNER, ADMIN, MEMBER, READONLY = "owner", "admin", "member", "readonly"
RANKS = {OWNER: 4, ADMIN: 3, MEMBER: 2, READONLY: 1}
ROLES = tuple(RANKS)
MANAGERS = (OWNER, ADMIN)


class NotAllowed(Exception):
    """The actor's role does not allow this change (403)."""


class NotFound(Exception):
    """No such member, or the actor is no longer a member (404)."""


class LastOwner(Exception):
    """The change would leave the tenant without an owner (409)."""


class AlreadyMember(Exception):
    """The address's account is a member already (409)."""


def normal(role: str | None) -> str:
    """A role as compared: trimmed, lower-case (legacy rows vary)."""
    return (role or "").strip().lower()


def rank(role: str | None) -> int:
    """The role's place in the order; 0 for a role the API does not know."""
    return RANKS.get(normal(role), 0)


def may_grant(actor_role: str, role: str) -> bool:
    """Whether a manager holding ``actor_role`` may give someone ``role``."""
    return normal(actor_role) in MANAGERS and 0 < rank(role) <= rank(actor_role)


@dataclass
class Added:
    """What adding an address did: made a membership, or sent an invitation."""

    membership: Membership | None = None
    invitation: Invitation | None = None


def _lock(tenant: Tenant, actor: User) -> Membership:
    """Locks the tenant's row; the actor's membership as it is now (NotFound if gone)."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    membership = Membership.objects.filter(tenant=tenant, user=actor).first()
    if membership is None:
        raise NotFound()
    return membership


def record(
    tenant: Tenant,
    action: str,
    actor: User | None,
    member: User | None,
    member_email: str,
    old_role: str = "",
    new_role: str = "",
) -> MembershipChange:
    """Writes one MembershipChange and its log line."""
    change = MembershipChange.objects.create(
        tenant=tenant,
        action=action,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        member=member,
        member_email=member_email,
        old_role=old_role,
        new_role=new_role,
    )
    events.log_event(
        events.TENANT_CHANGED,
        action=action,
        tenant_id=tenant.pk,
        actor_id=actor.pk if actor is not None else None,
        member_id=member.pk if member is not None else None,
        old_role=old_role,
        new_role=new_role,
    )
    return change


def add(tenant: Tenant, actor: User, email: str, role: str) -> Added:
    """Adds the verified account of ``email`` with ``role``, or invites the address."""
    role = normal(role)
    address = trim(email)
    with transaction.atomic():
        mine = _lock(tenant, actor)
        if not may_grant(mine.role, role):
            raise NotAllowed()
        user = find_account(address)
        if user is not None and user.is_active and user.is_verified:
            if Membership.objects.filter(tenant=tenant, user=user).exists():
                raise AlreadyMember()
            membership = Membership.objects.create(tenant=tenant, user=user, role=role)
            record(tenant, MembershipChange.ADDED, actor, user, user.email, new_role=role)
            return Added(membership=membership)
        # Unknown, or not proven to be this person's: an invitation, which waits for
        # the address to be verified. A newer invitation replaces older ones.
        now = timezone.now()
        _pending(address).filter(tenant=tenant).update(expires_at=now)
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=address,
            role=role,
            invited_by=actor,
            expires_at=now + timedelta(days=settings.INVITATION_DAYS),
        )
        record(tenant, MembershipChange.INVITED, actor, None, address, new_role=role)
    emails.send(
        emails.INVITATION,
        address,
        {
            "email": address,
            "inviter": actor.full_name or actor.email,
            "tenant_name": tenant.name,
            "role": role,
            "expires_at": invitation.expires_at,
            "link": f"{settings.FRONTEND_URL}/signup?{urlencode({'email': address})}",
        },
    )
    return Added(invitation=invitation)


def change_role(tenant: Tenant, actor: User, member_id: int, role: str) -> Membership:
    """Gives member ``member_id`` the role ``role``, by the rules above."""
    role = normal(role)
    with transaction.atomic():
        mine = _lock(tenant, actor)
        target = (
            Membership.objects.select_related("user")
            .filter(tenant=tenant, user_id=member_id)
            .first()
        )
        if target is None:
            raise NotFound()
        if not may_grant(mine.role, role) or rank(target.role) > rank(mine.role):
            raise NotAllowed()
        old = target.role
        if normal(old) == role:
            return target
        if normal(old) == OWNER and _owners(tenant) <= 1:
            raise LastOwner()
        target.role = role
        target.save(update_fields=["role"])
        record(
            tenant,
            MembershipChange.ROLE_CHANGED,
            actor,
            target.user,
            target.user.email,
            old_role=old,
            new_role=role,
        )
        return target


def remove(tenant: Tenant, actor: User, member_id: int) -> None:
    """Removes member ``member_id`` (anyone may remove themselves), by the rules above."""
    with transaction.atomic():
        mine = _lock(tenant, actor)
        target = (
            Membership.objects.select_related("user")
            .filter(tenant=tenant, user_id=member_id)
            .first()
        )
        if target is None:
            raise NotFound()
        leaving = target.user_id == actor.pk
        if not leaving and (
            normal(mine.role) not in MANAGERS or rank(target.role) > rank(mine.role)
        ):
            raise NotAllowed()
        if normal(target.role) == OWNER and _owners(tenant) <= 1:
            raise LastOwner()
        target.delete()
        record(
            tenant,
            MembershipChange.REMOVED,
            actor,
            target.user,
            target.user.email,
            old_role=target.role,
        )


def _owners(tenant: Tenant) -> int:
    return sum(
        1
        for role in Membership.objects.filter(tenant=tenant).values_list("role", flat=True)
        if normal(role) == OWNER
    )


def _pending(address: str):  # type: ignore[no-untyped-def]
    return Invitation.objects.alias(email_key=Lower("email")).filter(
        email_key=Lower(Value(trim(address))),
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
    )


def accept_invitations(user: User) -> list[Membership]:
    """Grants ``user`` the invitations waiting for their verified address, each once.

    Called in the transaction that verified the address. An invitation whose inviter
    can no longer grant its role is used up without granting anything.
    """
    if not (user.is_active and user.is_verified):
        return []
    granted = []
    waiting = (
        _pending(user.email)
        .filter(tenant__is_active=True)
        .select_related("tenant", "invited_by")
        .select_for_update(of=("self",))
        .order_by("created_at", "pk")
    )
    for invitation in waiting:
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        inviter = (
            Membership.objects.filter(
                tenant=invitation.tenant, user=invitation.invited_by_id
            ).first()
            if invitation.invited_by_id
            else None
        )
        if inviter is None or not may_grant(inviter.role, invitation.role):
            continue
        if Membership.objects.filter(tenant=invitation.tenant, user=user).exists():
            continue
        membership = Membership.objects.create(
            tenant=invitation.tenant, user=user, role=invitation.role
        )
        record(
            invitation.tenant,
            MembershipChange.ACCEPTED,
            invitation.invited_by,
            user,
            user.email,
            new_role=invitation.role,
        )
        granted.append(membership)
    return granted
