"""The floor: PostgreSQL's own plainest copy of the legacy rows, the copy's yardstick.

Each statement is one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (the credentials one
``UPDATE``) into a scratch table made ``LIKE`` the real one, ``INCLUDING ALL`` (same columns,
indexes and unique constraints), with the same deferred foreign key to the users. None of
the engine's work is done: no checks beyond what the tables enforce, no merge (a person's
second row is dropped by the conflict), no origins, role groups, conflicts or reports.

- ``users_and_keys()``: the floor the issue names, ``users`` and ``user_api_keys``.
- ``records()``: after those, the records of the same rows that the engine keeps beside
  them (each row's origin, each user's role group), the least a copy of users and keys
  that can be verified and reversed writes.
- ``other_sources()``: the same plain copy of every other source's rows, so that the
  every-source run can be compared with the cost of merely writing what it writes.
"""

from __future__ import annotations

# scratch table -> the consolidated table it is shaped like
USERS_AND_KEYS = {
    "bench_floor_user": "accounts_user",
    "bench_floor_apikey": "accounts_apikey",
}
OTHERS = {
    "bench_floor_profile": "accounts_profile",
    "bench_floor_session": "accounts_loginsession",
    "bench_floor_tenant": "accounts_tenant",
    "bench_floor_membership": "accounts_membership",
}
NATS = {"bench_floor_natssession": "natscreds_natsauthsession"}
RECORDS = {
    "bench_floor_origin": "accounts_userorigin",
    "bench_floor_group": "auth_group",
    "bench_floor_user_group": "accounts_user_groups",
}
# scratch table -> (column, scratch table) of its deferred foreign keys besides its user
OTHER_KEYS = {
    "bench_floor_membership": ("tenant_id", "bench_floor_tenant"),
    "bench_floor_user_group": ("group_id", "bench_floor_group"),
}
NOT_OWNED = ("bench_floor_user", "bench_floor_tenant", "bench_floor_group")

BLANKS = "E' \\t\\r\\n'"


def scratch_tables(*more: dict[str, str]) -> dict[str, str]:
    tables = dict(USERS_AND_KEYS)
    for extra in more:
        tables.update(extra)
    return tables


def create(tables: dict[str, str]) -> list[str]:
    """Statements making the scratch tables, each with its deferred key to the users."""
    statements = [drop(tables)]
    statements += [f"CREATE TABLE {t} (LIKE {like} INCLUDING ALL)" for t, like in tables.items()]
    keys = [(t, "user_id", "bench_floor_user") for t in tables if t not in NOT_OWNED]
    keys += [(t, *OTHER_KEYS[t]) for t in tables if t in OTHER_KEYS]
    statements += [
        f"ALTER TABLE {t} ADD FOREIGN KEY ({column}) REFERENCES {target} (id)"
        " DEFERRABLE INITIALLY DEFERRED"
        for t, column, target in keys
    ]
    return statements


def drop(tables: dict[str, str]) -> str:
    return f"DROP TABLE IF EXISTS {', '.join(reversed(tables))}"


def _people(table: str, source: str, password: str, username: str, full_name: str,
            superuser: str, verified: str, joined: str, last_login: str) -> str:
    """One legacy user table into the scratch users; a person already there is skipped."""
    return (
        "INSERT INTO bench_floor_user (email, password, username, full_name, is_active,"
        " is_staff, is_superuser, is_verified, date_joined, last_login, legacy_source,"
        " legacy_id)"
        f" SELECT btrim(u.email, {BLANKS}),"
        f" CASE WHEN u.{password} LIKE '$2%' THEN 'legacy_bcrypt$' || u.{password}"
        f" WHEN u.{password} LIKE '$argon2%' THEN 'legacy_argon2$' || u.{password}"
        " ELSE '!' END,"
        f" {username}, {full_name}, u.is_active, FALSE, {superuser}, {verified}, {joined},"
        f" {last_login}, '{source}', u.id::text"
        # The one check the target enforces itself: an address fits in 254 characters.
        f" FROM {table} u WHERE length(btrim(u.email, {BLANKS})) <= 254"
        " ORDER BY u.id ON CONFLICT DO NOTHING"
    )


def _by_shared_user(table: str) -> str:
    """Rows of a shared-models table, joined with the scratch user of their person."""
    return (
        f" FROM {table} k JOIN \"user\" s ON s.id = k.user_id"
        f" JOIN bench_floor_user f ON lower(f.email) = lower(btrim(s.email, {BLANKS}))"
    )


def _by_users_row(rows: str, users_id: str = "k.user_id") -> str:
    """``rows`` (a table and its alias), each joined with the scratch user made from the
    ``users`` row whose id is ``users_id``."""
    return (
        f" FROM {rows} JOIN bench_floor_user f"
        f" ON f.legacy_source = 'users' AND f.legacy_id = {users_id}::text"
    )


# ``users`` rows, each with the scratch user it made
USERS_ROWS = _by_users_row("users u", "u.id")


def users_and_keys() -> list[str]:
    return [
        _people("users", "users", "password_hash", "u.username", "u.full_name", "FALSE",
                "FALSE", "u.created_at", "u.last_login_at"),
        "INSERT INTO bench_floor_apikey (user_id, name, prefix, digest, scopes, is_active,"
        " created_at, last_used_at, expires_at, revoked_at, legacy_source, legacy_id)"
        " SELECT f.id, k.name, k.key_prefix, lower(btrim(k.key_hash)), k.scopes,"
        " k.is_active, k.created_at, k.last_used_at, k.expires_at, NULL,"
        f" 'user_api_keys', k.id::text{_by_users_row('user_api_keys k')}"
        " ON CONFLICT DO NOTHING",
    ]


def records() -> list[str]:
    """Origins and role groups of the users, after ``users_and_keys()``: read from the
    scratch users (the address and password as copied), so cheaper than the real ones."""
    role = "lower(btrim(u.role))"
    return [
        "INSERT INTO bench_floor_origin (user_id, source, legacy_id, legacy_email, copied_at,"
        " legacy_password, legacy_active) SELECT f.id, f.legacy_source, f.legacy_id, f.email,"
        " now(), f.password, f.is_active FROM bench_floor_user f ON CONFLICT DO NOTHING",
        f"INSERT INTO bench_floor_group (name) SELECT DISTINCT {role} FROM users u"
        f" WHERE {role} <> '' ON CONFLICT DO NOTHING",
        f"INSERT INTO bench_floor_user_group (user_id, group_id) SELECT f.id, g.id{USERS_ROWS}"
        f" JOIN bench_floor_group g ON g.name = {role} ON CONFLICT DO NOTHING",
    ]


def other_sources(nats: bool) -> list[str]:
    """Every other source's rows, after ``users_and_keys()`` in the same transaction."""
    statements = [
        _people('"user"', "user", "hashed_password", "u.username",
                "concat_ws(' ', u.first_name, u.last_name)", "u.is_superuser", "FALSE",
                "u.created_at", "NULL"),
        _people("fu_users", "fu_users", "hashed_password", "NULL", "NULL", "u.is_superuser",
                "u.is_verified", "now()", "NULL"),
        "INSERT INTO bench_floor_apikey (user_id, name, prefix, digest, scopes, is_active,"
        " created_at, last_used_at, expires_at, revoked_at, legacy_source, legacy_id)"
        " SELECT f.id, k.name, k.prefix, lower(btrim(k.key_hash)), NULL, TRUE, k.created_at,"
        f" NULL, k.expires_at, k.revoked_at, 'user_api_key', k.id::text"
        f"{_by_shared_user('user_api_key')} ON CONFLICT DO NOTHING",
        "INSERT INTO bench_floor_profile (user_id, bio, avatar_url, timezone, locale, phone,"
        " preferences, legacy_source, legacy_id)"
        " SELECT f.id, k.bio, k.avatar_url, k.timezone, k.locale, k.phone, k.preferences,"
        f" 'user_profile', k.id::text{_by_shared_user('user_profile')} ON CONFLICT DO NOTHING",
        "INSERT INTO bench_floor_session (user_id, token_digest, ip_address, user_agent,"
        " created_at, last_seen_at, expires_at, revoked_at, legacy_source, legacy_id)"
        " SELECT f.id, lower(btrim(k.token_hash)), k.ip_address, k.user_agent, k.created_at,"
        " k.last_seen_at, k.expires_at, k.revoked_at, 'user_session', k.id::text"
        f"{_by_shared_user('user_session')} ON CONFLICT DO NOTHING",
        "INSERT INTO bench_floor_tenant (name, slug, is_active, created_at, legacy_source,"
        " legacy_id) SELECT c.name, lower(btrim(c.slug)), c.is_active, c.created_at,"
        " 'clients', c.id::text FROM clients c ON CONFLICT DO NOTHING",
        "INSERT INTO bench_floor_membership (user_id, tenant_id, role, legacy_source, legacy_id)"
        f" SELECT f.id, t.id, lower(btrim(u.role)), 'users', u.id::text{USERS_ROWS}"
        " JOIN bench_floor_tenant t ON t.legacy_id = u.client_id::text"
        " ON CONFLICT DO NOTHING",
    ]
    if nats:
        statements += [
            # The consolidated user carries one credential: the newest not retired.
            "UPDATE bench_floor_user f SET nats_public_key = c.public_key, nats_jwt = c.jwt,"
            " nats_seed_hash = c.seed_hash, nats_account_public_key = c.account_public_key,"
            " nats_expires_at = c.expires_at, nats_expired_at = c.expired_at,"
            " nats_legacy_id = c.id::text FROM (SELECT DISTINCT ON (user_id) *"
            " FROM nats_user_credential"
            " ORDER BY user_id, expired_at IS NULL DESC, created_at DESC, id DESC) c"
            " WHERE f.legacy_source = 'users' AND f.legacy_id = c.user_id::text",
            "INSERT INTO bench_floor_natssession (user_id, client_id, ip_address, created_at,"
            " expires_at, closed_at, legacy_source, legacy_id)"
            " SELECT f.id, k.client_id, k.ip_address, k.created_at, k.expires_at, k.closed_at,"
            f" 'nats_auth_session', k.id::text{_by_users_row('nats_auth_session k')}"
            " ON CONFLICT DO NOTHING",
        ]
    return statements
