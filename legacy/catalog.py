"""The legacy tables authcore knows, and the words every part of it uses about them.

Pure data, no database: the models, the engine's sources, the admin, the demo and the
test fixtures read it, so a legacy table is declared here once. Adding one means a
declaration below, its unmanaged model (legacy/models/tables.py, and by hand in migration
0001) and its SQL mapping in the engine's source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# ---- what a legacy table is ---------------------------------------------------------------

PEOPLE = "people"  # rows of people: one user per address
OWNED = "owned"  # rows a person row owns, each copied onto that person's user
MEMBERSHIPS = "memberships"  # the report's name for users.client_id (a tenant membership)
TENANTS = "tenants"  # the auth service's clients
NATS_ACCOUNTS = "nats_accounts"
NATS_CREDENTIALS = "nats_credentials"  # moved onto the user, one winner per person


@dataclass(frozen=True)
class LegacyTableSpec:
    """One legacy table: ``key`` is its name in the legacy schema (and in settings'
    LEGACY_TABLE_<KEY>), ``model`` its unmanaged model in legacy.models, ``source`` the old
    service it belongs to, ``becomes`` the consolidated model its rows are copied into,
    ``owner`` the people table whose rows own it."""

    key: str
    model: str
    source: str
    kind: str
    becomes: str
    owner: str | None = None
    held_as: str | None = None  # what a held row of it is in the review queue (Hold.Kind)

    def owned_by(self, owner: str, held_as: str) -> LegacyTableSpec:
        return replace(self, owner=owner, held_as=held_as)


Spec = LegacyTableSpec


# In the schema's order: a table after the tables it refers to (tests/sql/).
# fmt: off
TABLES = (
    Spec("clients", "AuthClient", "tenants", TENANTS, "accounts.Tenant"),
    Spec("users", "AuthUser", "auth_service", PEOPLE, "accounts.User"),
    Spec("user_api_keys", "AuthUserApiKey", "auth_service", OWNED, "accounts.ApiKey")
    .owned_by("users", held_as="api_key"),
    Spec("user", "SharedUser", "shared_models", PEOPLE, "accounts.User"),
    Spec("user_api_key", "SharedUserApiKey", "shared_models", OWNED, "accounts.ApiKey")
    .owned_by("user", held_as="api_key"),
    Spec("user_profile", "SharedUserProfile", "shared_models", OWNED, "accounts.Profile")
    .owned_by("user", held_as="profile"),
    Spec("user_session", "SharedUserSession", "shared_models", OWNED, "accounts.LoginSession")
    .owned_by("user", held_as="session"),
    Spec("fu_users", "FastapiUser", "fastapi_users", PEOPLE, "accounts.User"),
    Spec("nats_account", "NatsAccount", "nats", NATS_ACCOUNTS, "natscreds.NatsAccount"),
    Spec("nats_user_credential", "NatsUserCredential", "nats", NATS_CREDENTIALS, "accounts.User")
    .owned_by("users", held_as="nats_credential"),
    Spec("nats_auth_session", "NatsAuthSession", "nats", OWNED, "natscreds.NatsAuthSession")
    .owned_by("users", held_as="nats_session"),
)
# fmt: on
BY_KEY = {table.key: table for table in TABLES}

# Legacy table key -> model in the legacy app.
LEGACY_MODELS = {table.key: table.model for table in TABLES}

# The old services, in the order they are copied: their merge priority (users > "user" >
# fu_users); tenants and NATS need the auth service's people first.
SOURCE_ORDER = ("auth_service", "tenants", "shared_models", "fastapi_users", "nats")


def tables_of(source: str) -> tuple[str, ...]:
    """The keys of ``source``'s tables (its people table first)."""
    own = [t for t in TABLES if t.source == source]
    return tuple(t.key for t in sorted(own, key=lambda t: t.kind != PEOPLE))


# The people tables, with the source each belongs to: the names LEGACY_VERIFIED_SOURCES
# accepts.
PEOPLE_SOURCES = {t.key: t.source for t in TABLES if t.kind == PEOPLE}

# What a held row of each consolidated model is in the review queue (legacy.Hold.Kind).
HOLD_KINDS = {t.becomes: t.held_as for t in TABLES if t.kind == OWNED and t.held_as}
# The memberships of ``users.client_id``, held as a whole row of their own.
MEMBERSHIP_HOLD = "membership"

# ---- the shared vocabulary ----------------------------------------------------------------

# RowIssue.kind: a row not copied, or copied and reported.
REJECTED = "rejected"
WARNING = "warning"

# CopyRun.outcome.
SUCCEEDED, VERIFY_FAILED, FAILED = "succeeded", "verify_failed", "failed"

# The per-table numbers of a run, in the order the command's report shows them.
REPORT_COLUMNS = (
    "rows",
    "copied",
    "merged",
    "rejected",
    "warnings",
    "held",
    "already_done",
    "synced",
)

# Reasons a row of an owned table is rejected.
OWNER_MISSING = "owner_missing"
OWNER_REJECTED = "owner_rejected"
DIGEST_INVALID = "digest_invalid"
DIGEST_DUPLICATE = "digest_duplicate"
ALREADY_HAS_ONE = "already_has_one"
REFUSED_BY_DATABASE = "refused_by_database"
# Reasons a people row is copied with a warning.
PASSWORD_UNUSABLE = "password_unusable"
VALUE_CUT = "value_cut"
# Why a users row's client_id became no membership: no such client, or one not copied.
TENANT_MISSING, TENANT_REJECTED = "tenant_missing", "tenant_rejected"
# A NATS credential another row of the person beat.
CREDENTIAL_SUPERSEDED = "credential_superseded"
# Why a row is held: it belongs to a merged person row that proves nothing.
UNPROVEN_MERGE = "unproven_merged_row"
# A person's decisions on a held item.
RELEASED, DISMISSED = "released", "dismissed"
