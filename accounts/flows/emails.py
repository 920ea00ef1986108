"""Account emails: plain text and HTML from templates, through Django's email framework.

Each kind of email reaches one address at most ACCOUNT_EMAILS_PER_HOUR times an hour,
counted in the shared cache by a digest of the address: asking again and again cannot
flood a mailbox. A refused or failed email changes nothing in the answer the asker gets.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.flows.events import mask_address

logger = logging.getLogger("authcore.events")

VERIFY, RESET, ALREADY_REGISTERED, INVITATION, PASSWORD_CHANGED = (
    "verify_email",
    "password_reset",
    "already_registered",
    "invitation",
    "password_changed",
)
TEMPLATE_DIR = "accounts/email"


def _allowed(kind: str, address: str) -> bool:
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    key = f"account-email:{kind}:{digest}"
    cache.add(key, 0, timeout=3600)
    try:
        sent = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        sent = 1
    limit: int = settings.ACCOUNT_EMAILS_PER_HOUR
    return sent <= limit


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML of an email of ``kind``."""
    context = {"frontend_url": settings.FRONTEND_URL, **context}
    subject = render_to_string(f"{TEMPLATE_DIR}/{kind}_subject.txt", context)
    text = render_to_string(f"{TEMPLATE_DIR}/{kind}.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/{kind}.html", context)
    return " ".join(subject.split()), text, html


def send(kind: str, address: str, context: dict[str, Any]) -> bool:
    """Sends one email of ``kind`` to ``address``; False if refused or failed."""
    if not _allowed(kind, address):
        logger.warning(
            "email_limited",
            extra={"event": "email_limited", "kind": kind, "to": mask_address(address)},
        )
        return False
    subject, text, html = render(kind, context)
    message = EmailMultiAlternatives(subject, text, to=[address])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:  # an SMTP outage must not tell the asker anything
        logger.exception(
            "email_failed",
            extra={"event": "email_failed", "kind": kind, "to": mask_address(address)},
        )
        return False
    return True
