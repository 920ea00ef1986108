"""A messy legacy database of N people, written by PostgreSQL itself (no row passes Python).

Every row is a function of its person number ``g`` (1..N), so a range of people can be
added later (the "1% new rows" run) without touching what is there. ``people(lo, hi)``
returns the INSERT ... SELECT statements for people ``lo``..``hi`` in every source.

Who is where (percentages of people):

- ``users``: everyone. 0.2% invalid emails, 0.02% too long, 1% case-duplicates of the
  previous person, 0.2% padded with blanks, 1 in 7 mixed case. Passwords: 80% bcrypt
  ($2a$/$2b$/$2y$), 13% argon2id, 3% passlib pbkdf2-sha256, 1% werkzeug pbkdf2, 2% empty,
  1% unrecognised (bare md5). 10% carry a ``client_id``. Roles in several spellings.
- ``user_api_keys``: 95% of people have a key, 5% a second one (about 1 per person);
  0.05% have a digest that is not hex, 0.05% the digest of another key in upper case.
- ``"user"``: 30% (``g % 10 in (0, 3, 6)``); 1% are people found nowhere else, 0.1% have
  an invalid email; other passwords than in ``users`` (so merges record conflicts).
  ``user_api_key`` for half of them (a few duplicating a ``user_api_keys`` digest),
  ``user_profile`` for 80% (0.1% with non-object preferences), ``user_session`` 1 or 2
  each, IPv4 and IPv6 addresses.
- ``fu_users``: 20% (``g % 5 = 2``); 1% people found nowhere else; argon2 and bcrypt.
- ``clients``: one per 1,000 people (at least 10), 1% with a case-duplicate slug.
- NATS (only when the engine has a "nats" source): 10 accounts; credentials for 10% of
  people (a third of them rotated, some all retired) with checksummed nkeys and JWTs
  signed by their account (1 in 100 not), auth sessions for the same people.

Password hashes are not real hashes of anything: they are strings in each library's exact
format (authcore/lib/hash_formats.py recognises them), which is all the copy looks at.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

# Tables in the order they are filled (foreign keys) and emptied.
CORE_TABLES = (
    "clients",
    "users",
    "user_api_keys",
    "user",
    "user_api_key",
    "user_profile",
    "user_session",
    "fu_users",
)
NATS_TABLES = ("nats_account", "nats_user_credential", "nats_auth_session")
SERIAL_TABLES = ("users", "user_api_keys", "nats_account", "nats_user_credential",
                 "nats_auth_session")
NATS_ACCOUNTS = 10


def clients_count(people: int) -> int:
    return max(10, people // 1000)


# --- SQL expression builders (over a person number expression) ---------------------------

def _domain(g: str) -> str:
    return f"(ARRAY['example.com','mail.example.org','corp.example.net'])[1 + ({g}) % 3]"


def _base_email(g: str) -> str:
    return f"('user' || ({g}) || '@' || {_domain(g)})"


def users_email(g: str) -> str:
    """The ``users.email`` of person ``g`` (unique as written, messy as real data)."""
    return (
        f"CASE WHEN {g} % 1000 = 11 THEN 'not-an-email-' || {g}"
        f" WHEN {g} % 1000 = 511 THEN 'user' || {g} || '@localhost'"
        # 255 characters: fits the column, over the 254 an address may have.
        f" WHEN {g} % 5000 = 4999 THEN rpad('toolong' || {g}, 243, 'x') || '@example.com'"
        # The same person as g - 1, in upper case.
        f" WHEN {g} % 100 = 37 THEN upper({_base_email(f'{g} - 1')})"
        f" WHEN {g} % 500 = 123 THEN '  ' || {_base_email(g)} || ' '"
        f" WHEN {g} % 7 = 0 THEN 'User' || {g} || '@' || initcap({_domain(g)})"
        f" ELSE {_base_email(g)} END"
    )


def _sha256_hex(text: str) -> str:
    return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"


def _b64(raw: str) -> str:
    """Standard base64 without padding (as argon2 PHC strings write it)."""
    return f"rtrim(encode({raw}, 'base64'), '=')"


def _md5_bytes(text: str) -> str:
    return f"decode(md5({text}), 'hex')"


def _sha_bytes(text: str) -> str:
    return f"sha256(convert_to({text}, 'UTF8'))"


def bcrypt(seed: str, prefix: str = "$2b$12$") -> str:
    """A modular-crypt bcrypt string: prefix + 53 characters of bcrypt's alphabet."""
    raw = f"{_sha_bytes(seed)} || {_md5_bytes(seed)}"  # 48 bytes: 64 base64 characters
    return f"'{prefix}' || substr(translate(encode({raw}, 'base64'), '+', '.'), 1, 53)"


def argon2(seed: str) -> str:
    return (
        f"'$argon2id$v=19$m=65536,t=3,p=4$' || {_b64(_md5_bytes(seed))}"
        f" || '$' || {_b64(_sha_bytes(seed))}"
    )


def _passlib_pbkdf2(seed: str) -> str:
    return (
        f"'$pbkdf2-sha256$29000$' || translate({_b64(_md5_bytes(seed))}, '+', '.')"
        f" || '$' || translate({_b64(_sha_bytes(seed))}, '+', '.')"
    )


def _werkzeug_pbkdf2(seed: str) -> str:
    return (
        f"'pbkdf2:sha256:600000$' || substr(md5('salt' || {seed}), 1, 16)"
        f" || '$' || {_sha256_hex(seed)}"
    )


def _users_password(g: str) -> str:
    seed = f"('pw:' || {g})"
    return (
        f"CASE WHEN {g} % 100 < 5 THEN {bcrypt(seed, '$2a$10$')}"
        f" WHEN {g} % 100 < 8 THEN {bcrypt(seed, '$2y$12$')}"
        f" WHEN {g} % 100 < 80 THEN {bcrypt(seed)}"
        f" WHEN {g} % 100 < 93 THEN {argon2(seed)}"
        f" WHEN {g} % 100 < 96 THEN {_passlib_pbkdf2(seed)}"
        f" WHEN {g} % 100 < 97 THEN {_werkzeug_pbkdf2(seed)}"
        f" WHEN {g} % 100 < 99 THEN ''"
        f" ELSE md5({seed}) END"
    )


def _ts(base: str, days: str) -> str:
    return f"(timestamptz '{base}' + ({days}) * interval '1 day')"


def _series(lo: int, hi: int) -> str:
    return f"generate_series({int(lo)}::bigint, {int(hi)}::bigint) AS g"


# --- the statements -----------------------------------------------------------------------

def clients(count: int) -> list[str]:
    return [
        "INSERT INTO clients (id, name, slug, is_active, created_at)"
        " SELECT md5('client:' || c)::uuid, 'Client ' || c,"
        " CASE WHEN c % 100 = 50 THEN 'CLIENT-' || (c - 1) ELSE 'client-' || c END,"
        f" c % 20 <> 0, {_ts('2019-01-01', 'c % 700')}"
        f" FROM generate_series(1, {int(count)}) AS c"
    ]


def people(lo: int, hi: int, n_clients: int, nats: bool) -> list[tuple[str, str]]:
    """(table, INSERT ... SELECT) for people ``lo``..``hi`` in every source."""
    series = _series(lo, hi)
    in_shared = "g % 10 IN (0, 3, 6)"  # the people in "user"
    shared_pw, fu_pw = "('shared:' || g)", "('fu:' || g)"
    session_token = "('sess-' || g || '-' || s)"
    statements = [
        (
            "users",
            "INSERT INTO users (id, email, password_hash, full_name, username, role,"
            " is_active, client_id, created_at, updated_at, last_login_at)"
            f" SELECT g, {users_email('g')}, {_users_password('g')},"
            " CASE WHEN g % 10 = 0 THEN NULL ELSE 'Person ' || g END,"
            " CASE WHEN g % 5 = 0 THEN NULL ELSE 'user' || g END,"
            " (ARRAY['personal_only','personal_only','personal_only','member','member',"
            "  ' Admin','OWNER ','readonly','Member','admin'])[1 + g % 10],"
            " g % 33 <> 0,"
            f" CASE WHEN g % 10 = 3 THEN md5('client:' || (1 + g % {int(n_clients)}))::uuid END,"
            f" {_ts('2020-01-01', 'g % 1500')} + (g % 86400) * interval '1 second',"
            f" CASE WHEN g % 2 = 0 THEN {_ts('2024-01-01', 'g % 300')} END,"
            f" CASE WHEN g % 4 = 0 THEN NULL ELSE {_ts('2025-01-01', 'g % 300')} END"
            f" FROM {series}",
        ),
        (
            "user_api_keys",
            "INSERT INTO user_api_keys (id, user_id, name, key_prefix, key_hash, scopes,"
            " is_active, created_at, last_used_at, expires_at)"
            " SELECT 2 * g + k - 1, g, 'key ' || g || '/' || k,"
            " substr(md5('key:' || g || '/' || k), 1, 8),"
            " CASE WHEN k = 2 THEN " + _sha256_hex("'key2-' || g") +
            " WHEN g % 2000 = 7 THEN 'not-a-hex-digest-' || md5('bad' || g)"
            # Another person's digest in upper case: a duplicate once lower-cased.
            " WHEN g % 2000 = 9 THEN upper(" + _sha256_hex("'key-' || (g - 1)") + ")"
            " ELSE " + _sha256_hex("'key-' || g") + " END,"
            " (ARRAY[NULL, 'read', 'read,write'])[1 + g % 3], g % 17 <> 0,"
            f" {_ts('2022-01-01', 'g % 900')},"
            f" CASE WHEN g % 3 = 0 THEN NULL ELSE {_ts('2025-06-01', 'g % 100')} END,"
            " CASE WHEN g % 4 = 0 THEN timestamptz '2027-01-01' END"
            f" FROM {series} CROSS JOIN LATERAL"
            " generate_series(1, CASE WHEN g % 20 = 1 THEN 2 ELSE 1 END) AS k"
            " WHERE g % 20 <> 0",
        ),
        (
            "user",
            'INSERT INTO "user" (id, email, username, hashed_password, first_name,'
            " last_name, is_active, is_superuser, created_at, updated_at)"
            " SELECT md5('user:' || g)::uuid,"
            " CASE WHEN g % 100 = 30 THEN 'shared-only-' || g || '@example.org'"
            " WHEN g % 1000 = 60 THEN 'shared user ' || g"
            f" WHEN g % 10 = 6 THEN upper({_base_email('g')}) ELSE {_base_email('g')} END,"
            " CASE WHEN g % 4 = 0 THEN NULL ELSE 'user' || g END,"
            f" CASE WHEN (g / 10) % 10 IN (7, 8) THEN {argon2(shared_pw)}"
            " WHEN (g / 10) % 10 = 9 THEN NULL"
            f" ELSE {bcrypt(shared_pw)} END,"
            " 'Person', g::text, g % 41 <> 0, g % 10000 = 0,"
            f" {_ts('2021-01-01', 'g % 900')}, NULL"
            f" FROM {series} WHERE {in_shared}",
        ),
        (
            "user_api_key",
            "INSERT INTO user_api_key (id, user_id, name, prefix, key_hash, created_at,"
            " expires_at, revoked_at)"
            " SELECT md5('skey:' || g)::uuid, md5('user:' || g)::uuid, 'shared key ' || g,"
            " substr(md5('skey:' || g), 1, 8),"
            " CASE WHEN g % 3000 = 0 THEN " + _sha256_hex("'key-' || (g + 1)") +
            " ELSE " + _sha256_hex("'skey-' || g") + " END,"
            f" {_ts('2022-06-01', 'g % 500')},"
            " CASE WHEN g % 3 = 0 THEN timestamptz '2027-06-01' END,"
            " CASE WHEN g % 9 = 0 THEN timestamptz '2024-05-01' END"
            f" FROM {series} WHERE {in_shared} AND (g / 10) % 2 = 0",
        ),
        (
            "user_profile",
            "INSERT INTO user_profile (id, user_id, bio, avatar_url, timezone, locale,"
            " phone, preferences)"
            " SELECT md5('prof:' || g)::uuid, md5('user:' || g)::uuid,"
            " CASE WHEN g % 3 = 0 THEN NULL ELSE 'Bio of person ' || g END,"
            " 'https://cdn.example.com/a/' || g || '.png',"
            " (ARRAY['Europe/Berlin','America/New_York','Asia/Tokyo',NULL])[1 + g % 4],"
            " (ARRAY['de-DE','en-US','ja-JP','fr-FR'])[1 + g % 4],"
            " '+4930' || lpad(g::text, 8, '0'),"
            " CASE WHEN g % 1000 = 0 THEN '[]'::jsonb ELSE jsonb_build_object("
            "'theme', CASE WHEN g % 2 = 0 THEN 'dark' ELSE 'light' END,"
            " 'newsletter', g % 3 = 0) END"
            f" FROM {series} WHERE {in_shared} AND (g / 10) % 5 <> 0",
        ),
        (
            "user_session",
            "INSERT INTO user_session (id, user_id, token_hash, ip_address, user_agent,"
            " created_at, last_seen_at, expires_at, revoked_at)"
            " SELECT md5('sess:' || g || ':' || s)::uuid, md5('user:' || g)::uuid,"
            f" {_sha256_hex(session_token)},"
            " CASE WHEN g % 13 = 0 THEN NULL"
            " WHEN s = 1 THEN ('10.' || (g / 65536) % 256 || '.' || (g / 256) % 256"
            " || '.' || g % 256)::inet"
            " ELSE ('2001:db8:' || to_hex(g / 65536) || ':' || to_hex(g % 65536)"
            " || '::' || s)::inet END,"
            " (ARRAY['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',"
            " 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15',"
            " 'python-requests/2.31.0'])[1 + g % 3],"
            f" {_ts('2025-01-01', 'g % 200')}, {_ts('2025-08-01', 'g % 60')},"
            f" {_ts('2026-01-01', 'g % 400')},"
            " CASE WHEN g % 7 = 0 THEN timestamptz '2025-09-01' END"
            f" FROM {series} CROSS JOIN LATERAL generate_series(1, 1 + g % 2) AS s"
            f" WHERE {in_shared}",
        ),
        (
            "fu_users",
            "INSERT INTO fu_users (id, email, hashed_password, is_active, is_superuser,"
            " is_verified)"
            " SELECT md5('fu:' || g)::uuid,"
            " CASE WHEN g % 100 = 52 THEN 'fu-only-' || g || '@example.net'"
            f" WHEN g % 10 = 7 THEN {users_email('g')}"
            f" ELSE lower(btrim({users_email('g')})) END,"
            f" CASE WHEN (g / 5) % 10 < 6 THEN {argon2(fu_pw)} ELSE {bcrypt(fu_pw)} END,"
            " g % 29 <> 0, g % 50000 = 2, (g / 5) % 10 < 7"
            f" FROM {series} WHERE g % 5 = 2",
        ),
    ]
    if nats:
        statements += _nats(lo, hi)
    return statements


# --- NATS ----------------------------------------------------------------------------------
# nkeys are base32 of (prefix byte, 32-byte ed25519 public key, CRC-16 little-endian). User
# keys are made in SQL (any 32 bytes are a valid key). The engine verifies each JWT's
# ed25519 signature by its account, which SQL cannot compute: the ten accounts' keys are
# made in Python, the JWTs in SQL without their signature, and then ``sign_credentials``
# signs them in one streamed pass (the one per-row step in Python; ~130,000 signatures of
# a few microseconds each at N = 1,000,000). 1 in 100 keeps a bad signature on purpose.

NKEY_FUNCTIONS = r"""
CREATE SCHEMA IF NOT EXISTS bench_fill;
CREATE OR REPLACE FUNCTION bench_fill.crc16(data bytea) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE crc integer := 0; i integer; j integer;
BEGIN
  FOR i IN 0 .. length(data) - 1 LOOP
    crc := crc # (get_byte(data, i) << 8);
    FOR j IN 1 .. 8 LOOP
      IF (crc & 32768) <> 0 THEN crc := ((crc << 1) # 4129) & 65535;
      ELSE crc := (crc << 1) & 65535; END IF;
    END LOOP;
  END LOOP;
  RETURN crc;
END $$;
CREATE OR REPLACE FUNCTION bench_fill.base32(data bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE alphabet text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'; result text := '';
        buffer integer := 0; bits integer := 0; i integer;
BEGIN
  FOR i IN 0 .. length(data) - 1 LOOP
    buffer := ((buffer << 8) | get_byte(data, i)) & 65535;
    bits := bits + 8;
    WHILE bits >= 5 LOOP
      result := result || substr(alphabet, ((buffer >> (bits - 5)) & 31) + 1, 1);
      bits := bits - 5;
    END LOOP;
  END LOOP;
  IF bits > 0 THEN
    result := result || substr(alphabet, ((buffer << (5 - bits)) & 31) + 1, 1);
  END IF;
  RETURN result;
END $$;
CREATE OR REPLACE FUNCTION bench_fill.nkey(prefix integer, seed text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT bench_fill.base32(p || decode(lpad(to_hex(c & 255), 2, '0')
         || lpad(to_hex(c >> 8), 2, '0'), 'hex'))
  FROM (SELECT decode(lpad(to_hex(prefix), 2, '0'), 'hex')
               || sha256(convert_to(seed, 'UTF8')) AS p) AS payload,
       LATERAL (SELECT bench_fill.crc16(payload.p) AS c) AS checksum
$$;
CREATE OR REPLACE FUNCTION bench_fill.b64url(data text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT rtrim(translate(replace(encode(convert_to(data, 'UTF8'), 'base64'), E'\n', ''),
                         '+/', '-_'), '=')
$$;
"""
PREFIX_ACCOUNT, PREFIX_USER = 0, 20 << 3  # the first base32 character is "A" / "U"
_JWT_HEADER = "bench_fill.b64url('{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}')"


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def nkey(prefix: int, raw: bytes) -> str:
    """An encoded nkey public key (what ``nkeys`` writes), the same as bench_fill.nkey."""
    body = bytes([prefix]) + raw
    return base64.b32encode(body + _crc16(body).to_bytes(2, "little")).decode().rstrip("=")


def nats_account_keys() -> dict[int, tuple[Any, str, str]]:
    """Account id -> (ed25519 signing key, public nkey, signing-key nkey), deterministic."""
    import nacl.signing

    keys = {}
    for account in range(1, NATS_ACCOUNTS + 1):
        signer = nacl.signing.SigningKey(hashlib.sha256(b"account:%d" % account).digest())
        other = nacl.signing.SigningKey(hashlib.sha256(b"signing:%d" % account).digest())
        keys[account] = (
            signer,
            nkey(PREFIX_ACCOUNT, signer.verify_key.encode()),
            nkey(PREFIX_ACCOUNT, other.verify_key.encode()),
        )
    return keys


def nats_accounts(keys: dict[int, tuple[Any, str, str]]) -> list[tuple[str, list[Any]]]:
    """(statement, parameters) for the ten accounts."""
    return [
        (
            "INSERT INTO nats_account (id, name, public_key, jwt, signing_key_public,"
            " created_at) VALUES (%s, %s, %s, NULL, %s, timestamptz '2023-01-01')",
            [account, f"account-{account}", public, signing],
        )
        for account, (_, public, signing) in keys.items()
    ]


def _nats(lo: int, hi: int) -> list[tuple[str, str]]:
    series = _series(lo, hi)
    user_key = f"bench_fill.nkey({PREFIX_USER}, 'user:' || g || ':' || n)"
    expires = "CASE WHEN g % 3 = 0 THEN NULL ELSE timestamptz '2027-01-01' + g * interval '1 s' END"
    claims = (
        "json_build_object('jti', md5('jti:' || g || ':' || n), 'iat', 1700000000 + g,"
        f" 'iss', a.public_key, 'name', 'user' || g, 'sub', {user_key},"
        f" 'exp', extract(epoch FROM {expires})::bigint,"
        " 'nats', json_build_object('pub', json_build_object(), 'sub', json_build_object(),"
        " 'type', 'user', 'version', 2))::text"
    )
    return [
        (
            "nats_user_credential",
            "INSERT INTO nats_user_credential (id, user_id, account_id, jwt, seed_hash,"
            " public_key, account_public_key, expires_at, expired_at, created_at)"
            " SELECT 2 * g + n - 1, g, a.id,"
            f" {_JWT_HEADER} || '.' || bench_fill.b64url({claims})"
            # 1 in 100 is signed by nobody: sign_credentials leaves 3-part tokens alone.
            " || CASE WHEN g % 1000 = 4 THEN '.' || repeat('A', 86) ELSE '' END, "
            + _sha256_hex("'seed:' || g || ':' || n") + f", {user_key}, a.public_key,"
            f" {expires},"
            # A rotation retires the older credential; 1 in 10 rotated people retired both.
            " CASE WHEN n = 1 AND g % 30 = 4 THEN timestamptz '2025-03-01'"
            " WHEN g % 300 = 4 THEN timestamptz '2025-04-01' END,"
            " timestamptz '2024-01-01' + n * interval '100 days'"
            f" FROM {series} CROSS JOIN LATERAL"
            " generate_series(1, CASE WHEN g % 30 = 4 THEN 2 ELSE 1 END) AS n"
            f" JOIN nats_account a ON a.id = 1 + g % {NATS_ACCOUNTS}"
            # 10% of people, plus those whose users row is rejected (owner_rejected).
            " WHERE g % 10 = 4 OR g % 1000 = 11",
        ),
        (
            "nats_auth_session",
            "INSERT INTO nats_auth_session (id, user_id, credential_id, account_id, client_id,"
            " ip_address, created_at, expires_at, closed_at)"
            f" SELECT 2 * g + s - 1, g, 2 * g, 1 + g % {NATS_ACCOUNTS},"
            " 'nats-client-' || g || '-' || s,"
            " CASE WHEN s = 1 THEN ('192.168.' || (g / 256) % 256 || '.' || g % 256)::inet"
            " ELSE ('2001:db8:ffff:' || to_hex(g % 65536) || '::' || s)::inet END,"
            f" {_ts('2025-02-01', 'g % 100')}, {_ts('2025-02-02', 'g % 100')},"
            " CASE WHEN g % 2 = 0 THEN timestamptz '2025-02-01 12:00' END"
            f" FROM {series} CROSS JOIN LATERAL generate_series(1, 1 + g % 2) AS s"
            " WHERE g % 10 = 4",
        ),
    ]


def sign_credentials(conn: Any, keys: dict[int, tuple[Any, str, str]]) -> int:
    """Append each unsigned credential JWT's ed25519 signature by its account."""
    conn.execute("CREATE TEMPORARY TABLE bench_signature (id integer, signature text)"
                 " ON COMMIT DROP")
    signed = 0
    with conn.cursor(name="bench_unsigned") as unsigned:
        unsigned.execute("SELECT id, account_id, jwt FROM nats_user_credential"
                         " WHERE jwt NOT LIKE '%.%.%'")
        while batch := unsigned.fetchmany(5000):
            # One COPY per batch: a connection cannot fetch while a COPY is open.
            with conn.cursor().copy("COPY bench_signature (id, signature) FROM STDIN") as copy:
                for credential, account, jwt in batch:
                    signature = keys[account][0].sign(jwt.encode("ascii")).signature
                    copy.write_row(
                        (credential, base64.urlsafe_b64encode(signature).decode().rstrip("="))
                    )
            signed += len(batch)
    conn.execute("UPDATE nats_user_credential c SET jwt = c.jwt || '.' || s.signature"
                 " FROM bench_signature s WHERE s.id = c.id")
    return signed


def reset_sequences(tables: tuple[str, ...]) -> list[str]:
    """After explicit ids: the serial columns continue after the highest id."""
    return [
        f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT COALESCE(MAX(id), 1)"
        f" FROM {t}))"
        for t in tables
    ]
