"""Real NATS credentials for the NATS tests: nkeys from the nkeys library, user JWTs signed
the way NATS signs them. Written independently of authcore.lib.nats_checks, so the
checks are tested against credentials they did not make.

The tests at the end pin the factory to NATS's format (header, unpadded base64url, key
prefixes), so the other NATS tests can rely on it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import nacl.signing
import nkeys

from tests.conftest import LegacyDB

# Whole seconds: a JWT's exp is an integer, and the tests compare it with expires_at.
LATER = datetime.now(tz=UTC).replace(microsecond=0) + timedelta(days=30)


def b64url(data: bytes) -> str:
    """Base64url without padding, as NATS (jwt.RawURLEncoding) writes."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Keys:
    """An nkey pair: its seed (kept by tests only) and encoded public key."""

    seed: bytes
    public_key: str

    @classmethod
    def create(cls, prefix: int) -> Keys:
        seed = nkeys.encode_seed(os.urandom(32), prefix)
        return cls(seed=seed, public_key=nkeys.from_seed(seed).public_key.decode())

    @classmethod
    def user(cls) -> Keys:
        return cls.create(nkeys.PREFIX_BYTE_USER)

    @classmethod
    def account(cls) -> Keys:
        return cls.create(nkeys.PREFIX_BYTE_ACCOUNT)

    def sign(self, data: bytes) -> bytes:
        return nkeys.from_seed(self.seed).sign(data)

    @property
    def seed_hash(self) -> str:
        """What the legacy table stores: a hash of the seed, never the seed (128 hex)."""
        return hashlib.sha512(self.seed).hexdigest()


def user_jwt(
    subject: str,
    issuer: Keys,
    *,
    expires: datetime | None = LATER,
    name: str = "user",
    issuer_account: str | None = None,
    nats_type: str = "user",
) -> str:
    """A NATS v2 user JWT for ``subject``, signed by ``issuer`` (an account or signing key)."""
    nats: dict[str, Any] = {
        "pub": {},
        "sub": {},
        "subs": -1,
        "data": -1,
        "payload": -1,
        "type": nats_type,
        "version": 2,
    }
    if issuer_account:
        nats["issuer_account"] = issuer_account
    claims: dict[str, Any] = {
        "iat": int(datetime.now(tz=UTC).timestamp()),
        "iss": issuer.public_key,
        "name": name,
        "sub": subject,
        "nats": nats,
    }
    if expires is not None:
        claims["exp"] = int(expires.timestamp())
    # NATS's jti: the base32 sha-256 of the claims without it.
    claims["jti"] = base64.b32encode(hashlib.sha256(compact_json(claims)).digest()).decode()
    claims["jti"] = claims["jti"].rstrip("=")
    header = {"typ": "JWT", "alg": "ed25519-nkey"}
    signing_input = f"{b64url(compact_json(header))}.{b64url(compact_json(claims))}"
    return f"{signing_input}.{b64url(issuer.sign(signing_input.encode()))}"


def tampered(token: str, **changes: Any) -> str:
    """``token`` with claims changed and the original signature kept."""
    header, claims, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    data.update(changes)
    return f"{header}.{b64url(compact_json(data))}.{signature}"


@dataclass(frozen=True)
class Account:
    id: Any
    keys: Keys
    signing: Keys | None = None


@dataclass(frozen=True)
class Credential:
    id: Any
    keys: Keys
    jwt: str


class NatsRows:
    """Legacy NATS rows with real keys and JWTs, inserted through the LegacyDB fixture."""

    def __init__(self, legacy: LegacyDB) -> None:
        self.legacy = legacy

    def account(self, name: str = "acme", signing: bool = False) -> Account:
        keys = Keys.account()
        signing_keys = Keys.account() if signing else None
        pk = self.legacy.insert(
            "nats_account",
            name=name,
            public_key=keys.public_key,
            jwt=None,
            signing_key_public=signing_keys.public_key if signing_keys else None,
        )
        return Account(id=pk, keys=keys, signing=signing_keys)

    def credential(
        self,
        user_id: Any,
        account: Account | None,
        *,
        expires: datetime | None = LATER,
        expired_at: datetime | None = None,
        created_at: datetime | None = None,
        signer: Keys | None = None,
        jwt: str | None = None,
        account_public_key: str | None = None,
        **values: Any,
    ) -> Credential:
        """A credential row; by default a valid JWT signed by the account's key."""
        keys = Keys.user()
        if jwt is None:
            assert account is not None or signer is not None
            issuer = signer or account.keys  # type: ignore[union-attr]
            issuer_account = account.keys.public_key if signer and account else None
            jwt = user_jwt(keys.public_key, issuer, expires=expires, issuer_account=issuer_account)
        values.setdefault("created_at", created_at or datetime.now(tz=UTC))
        pk = self.legacy.insert(
            "nats_user_credential",
            user_id=user_id,
            account_id=account.id if account else None,
            jwt=jwt,
            seed_hash=keys.seed_hash,
            public_key=keys.public_key,
            account_public_key=account_public_key
            or (account.keys.public_key if account else Keys.account().public_key),
            expires_at=expires,
            expired_at=expired_at,
            **values,
        )
        return Credential(id=pk, keys=keys, jwt=jwt)

    def session(self, user_id: Any, **values: Any) -> Any:
        return self.legacy.insert("nats_auth_session", user_id=user_id, **values)


# ---- the factory itself is NATS-shaped --------------------------------------------------


def test_keys_have_the_nats_prefixes():
    assert Keys.user().public_key.startswith("U")
    assert Keys.account().public_key.startswith("A")
    assert len(Keys.user().public_key) == 56
    assert Keys.user().seed.startswith(b"SU")


def test_a_user_jwt_is_unpadded_base64url_signed_by_its_issuer():
    account, user = Keys.account(), Keys.user()
    token = user_jwt(user.public_key, account, expires=LATER)
    header, claims, signature = token.split(".")
    assert "=" not in token
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {
        "typ": "JWT",
        "alg": "ed25519-nkey",
    }
    data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert (data["sub"], data["iss"], data["exp"]) == (
        user.public_key,
        account.public_key,
        int(LATER.timestamp()),
    )
    assert data["nats"]["type"] == "user" and data["jti"]
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    verify_key = nkeys.from_seed(account.seed)._keys.verify_key
    assert isinstance(verify_key, nacl.signing.VerifyKey)
    verify_key.verify(f"{header}.{claims}".encode(), raw)  # raises if it does not verify
