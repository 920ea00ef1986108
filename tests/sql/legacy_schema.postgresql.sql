-- The legacy tables exactly as ../shared/legacy-schema.md writes them (PostgreSQL).
-- tests/test_legacy_schema_file.py checks this file against that document.

CREATE TABLE clients (                       -- only in multi-tenant deployments (seed 004)
    id          uuid PRIMARY KEY,
    name        varchar(200) NOT NULL,
    slug        varchar(100) NOT NULL UNIQUE,
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             serial PRIMARY KEY,
    email          varchar(255) NOT NULL UNIQUE,
    password_hash  varchar(255) NOT NULL,          -- '' for accounts created without a password
    full_name      varchar(255),
    username       varchar(255),
    role           varchar(50) NOT NULL DEFAULT 'personal_only',
    is_active      boolean NOT NULL DEFAULT true,
    client_id      uuid REFERENCES clients(id),    -- only in multi-tenant deployments
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz,
    last_login_at  timestamptz
);

CREATE TABLE user_api_keys (
    id            serial PRIMARY KEY,
    user_id       integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          varchar(100) NOT NULL,
    key_prefix    varchar(12) NOT NULL,            -- first characters of the token, for display
    key_hash      char(64) NOT NULL UNIQUE,        -- sha256 hex digest of the whole token
    scopes        text,                            -- comma-separated, may be NULL
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz
);

CREATE TABLE "user" (                          -- note: a reserved word, always quoted
    id               uuid PRIMARY KEY,
    email            varchar(320) NOT NULL UNIQUE,
    username         varchar(150),
    hashed_password  varchar(255),             -- NULL for accounts that never set one
    first_name       varchar(150),
    last_name        varchar(150),
    is_active        boolean NOT NULL DEFAULT true,
    is_superuser     boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz
);

CREATE TABLE user_api_key (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
    name        varchar(100) NOT NULL,
    prefix      varchar(12) NOT NULL,
    key_hash    char(64) NOT NULL UNIQUE,          -- sha256 hex, same scheme as source 1
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);

CREATE TABLE user_profile (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL UNIQUE REFERENCES "user"(id) ON DELETE CASCADE,
    bio          text,
    avatar_url   varchar(500),
    timezone     varchar(64),
    locale       varchar(16),
    phone        varchar(32),
    preferences  jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE user_session (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
    token_hash    char(64) NOT NULL UNIQUE,        -- sha256 hex of the session token
    ip_address    inet,
    user_agent    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);

CREATE TABLE fu_users (
    id               uuid PRIMARY KEY,
    email            varchar(320) NOT NULL UNIQUE,
    hashed_password  varchar(1024) NOT NULL,
    is_active        boolean NOT NULL DEFAULT true,
    is_superuser     boolean NOT NULL DEFAULT false,
    is_verified      boolean NOT NULL DEFAULT false
);

CREATE TABLE nats_account (
    id                  serial PRIMARY KEY,
    name                varchar(100) NOT NULL UNIQUE,
    public_key          varchar(56) NOT NULL UNIQUE,   -- nkey, starts with 'A'
    jwt                 text,
    signing_key_public  varchar(56),
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nats_user_credential (
    id                  serial PRIMARY KEY,
    user_id             integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    account_id          integer REFERENCES nats_account(id),
    jwt                 text NOT NULL,                 -- NATS user JWT
    seed_hash           varchar(128) NOT NULL,         -- hash of the user's nkey seed, never the seed
    public_key          varchar(56) NOT NULL UNIQUE,   -- nkey, starts with 'U'
    account_public_key  varchar(56) NOT NULL,
    expires_at          timestamptz,
    expired_at          timestamptz,                   -- set when the credential was retired
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nats_auth_session (
    id             serial PRIMARY KEY,
    user_id        integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id  integer REFERENCES nats_user_credential(id),
    account_id     integer REFERENCES nats_account(id),
    client_id      varchar(100),
    ip_address     inet,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    closed_at      timestamptz
);
