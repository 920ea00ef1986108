"""The columns that hold a secret: one list for the admin's pages, filters, searches and
sort orders, and for the tests that scan every page and every command's output.

A secret is anything that lets its holder in, or narrows down what would: a password hash
(an offline guess per hash), a token's sha256 digest (a 64-character prefix oracle away
from the digest, and a digest is what the API looks tokens up by), a NATS seed hash, a
bearer token. Models are named by their label (``app_label.ModelName``), fields by name.

Kept conservative where it costs nothing to be: a NATS account JWT is public to a NATS
server, but nobody needs to filter or sort on it, so it is treated as a secret too.
A simplejwt ``jti`` is not: it only names a refresh token, and the admin shows it to tell
tokens apart; the token itself is a bearer credential.
"""

from __future__ import annotations

SECRET_FIELDS: dict[str, frozenset[str]] = {
    # The consolidated models.
    "accounts.User": frozenset({"password", "nats_seed_hash", "nats_jwt"}),
    "accounts.UserOrigin": frozenset({"legacy_password"}),
    "accounts.ApiKey": frozenset({"digest"}),
    "accounts.LoginSession": frozenset({"token_digest"}),
    "natscreds.NatsAccount": frozenset({"jwt"}),
    # The legacy tables, read-only but just as secret.
    "legacy.AuthUser": frozenset({"password_hash"}),
    "legacy.AuthUserApiKey": frozenset({"key_hash"}),
    "legacy.SharedUser": frozenset({"hashed_password"}),
    "legacy.SharedUserApiKey": frozenset({"key_hash"}),
    "legacy.SharedUserSession": frozenset({"token_hash"}),
    "legacy.FastapiUser": frozenset({"hashed_password"}),
    "legacy.NatsAccount": frozenset({"jwt"}),
    "legacy.NatsUserCredential": frozenset({"jwt", "seed_hash"}),
    # Third-party models: a refresh token, and a browser session's key and data.
    "token_blacklist.OutstandingToken": frozenset({"token"}),
    "sessions.Session": frozenset({"session_key", "session_data"}),
}
"""Model label -> names of its fields that hold a secret."""


def secret_fields_of(label: str) -> frozenset[str]:
    """The secret fields of the model labelled ``label`` (none if it has none)."""
    return SECRET_FIELDS.get(label, frozenset())


def is_secret(label: str, field_name: str) -> bool:
    """Whether field ``field_name`` of model ``label`` holds a secret."""
    return field_name in secret_fields_of(label)
