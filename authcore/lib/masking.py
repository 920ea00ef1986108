"""How a secret is shown to a person: never in full, only enough to tell two apart.

API key digests, session token digests and NATS seed hashes are sha256-style hex strings;
the admin shows their first characters so an operator can match a row against a log line
or a token prefix without the page ever holding the whole value. A JWT starts with the same
header every time, so it is told apart by its last characters (a piece of its signature,
which forges nothing).
"""

from __future__ import annotations

DIGEST_SHOWN = 8
"""How many leading characters of a digest are shown: enough to tell keys apart."""

ELLIPSIS = "…"


def mask_digest(digest: str | None, shown: int = DIGEST_SHOWN) -> str | None:
    """The first ``shown`` characters of ``digest`` and "…"; None stays None, "" stays "".

    A malformed short value (legacy tables hold some) shows at most half of itself, so
    no value is ever shown whole, however short it is.
    """
    if digest is None:
        return None
    if not digest:
        return ""
    return f"{digest[: min(shown, len(digest) // 2)]}{ELLIPSIS}"


JWT_SHOWN = (16, 8)
"""How much of a JWT is shown: its first and last characters."""


def mask_jwt(token: str | None) -> str | None:
    """The first and last characters of a JWT around "…"; None stays None.

    A value too short to be a JWT is masked as a digest, so it is never shown whole.
    """
    if token is None:
        return None
    head, tail = JWT_SHOWN
    if len(token) < 4 * (head + tail):
        return mask_digest(token)
    return f"{token[:head]}{ELLIPSIS}{token[-tail:]}"
