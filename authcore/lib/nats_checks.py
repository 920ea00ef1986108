"""Checks of legacy NATS credentials: nkeys and user JWTs in, problems out.

The copy does not take a credential on trust. For each row it asks: are the
public keys valid nkeys of the right kind (user keys start with ``U``, account keys with
``A``, the CRC-16 checksum holds)? Does the JWT decode, name the user's key as ``sub`` and
the account (or that account's signing key) as ``iss``, carry a valid ed25519 signature by
``iss``, and expire when the row says it does? Is the seed hash a hash, not the seed itself?

Pure functions (no Django): the engine streams rows through them, the admin decodes claims
with them, and they have their own tests. Decoding follows the nkeys library (its prefix
bytes and CRC-16); the signature is checked by PyNaCl (libsodium), the ed25519 that nkeys
itself uses, because nkeys 0.2.1 can only verify with a private key at hand.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nacl.exceptions
import nacl.signing
import nkeys

__all__ = [
    "ACCOUNT",
    "ALL_CODES",
    "USER",
    "DecodedJwt",
    "InvalidJwt",
    "InvalidNkey",
    "Problem",
    "check_account",
    "check_user_credential",
    "claims_of",
    "decode_jwt",
    "decode_public_key",
    "expiry_matches",
    "is_seed",
    "key_kind",
    "signature_valid",
]

USER, ACCOUNT, OPERATOR, SERVER, CLUSTER = "user", "account", "operator", "server", "cluster"
_PREFIX_BYTES = {
    USER: nkeys.PREFIX_BYTE_USER,
    ACCOUNT: nkeys.PREFIX_BYTE_ACCOUNT,
    OPERATOR: nkeys.PREFIX_BYTE_OPERATOR,
    SERVER: nkeys.PREFIX_BYTE_SERVER,
    CLUSTER: nkeys.PREFIX_BYTE_CLUSTER,
}
_KINDS = {byte: kind for kind, byte in _PREFIX_BYTES.items()}
# 1 prefix byte + 32 key bytes + 2 checksum bytes, base32 without padding.
_RAW_LENGTH = 35
PUBLIC_KEY_LENGTH = 56
# NATS v2 writes "ed25519-nkey"; v1 tooling wrote "ed25519". Both sign the same way.
JWT_ALGORITHMS = frozenset({"ed25519-nkey", "ed25519"})

# Problem codes: stored as RowIssue reasons and in User.nats_problems, so each is a plain
# word and none is part of another.
USER_KEY_INVALID = "user_key_invalid"
USER_KEY_WRONG_KIND = "user_key_wrong_kind"
ACCOUNT_KEY_INVALID = "account_key_invalid"
ACCOUNT_KEY_WRONG_KIND = "account_key_wrong_kind"
SIGNING_KEY_INVALID = "signing_key_invalid"
ACCOUNT_MISSING = "account_missing"
ACCOUNT_KEY_MISMATCH = "account_key_mismatch"
JWT_MALFORMED = "jwt_malformed"
JWT_ALGORITHM_UNSUPPORTED = "jwt_algorithm_unsupported"
JWT_NOT_USER = "jwt_not_user"
JWT_SUBJECT_MISMATCH = "jwt_subject_mismatch"
JWT_ISSUER_MISMATCH = "jwt_issuer_mismatch"
JWT_SIGNATURE_INVALID = "jwt_signature_invalid"
JWT_EXPIRY_MISMATCH = "jwt_expiry_mismatch"
SEED_NOT_HASHED = "seed_not_hashed"

ALL_CODES = (
    USER_KEY_INVALID,
    USER_KEY_WRONG_KIND,
    ACCOUNT_KEY_INVALID,
    ACCOUNT_KEY_WRONG_KIND,
    SIGNING_KEY_INVALID,
    ACCOUNT_MISSING,
    ACCOUNT_KEY_MISMATCH,
    JWT_MALFORMED,
    JWT_ALGORITHM_UNSUPPORTED,
    JWT_NOT_USER,
    JWT_SUBJECT_MISMATCH,
    JWT_ISSUER_MISMATCH,
    JWT_SIGNATURE_INVALID,
    JWT_EXPIRY_MISMATCH,
    SEED_NOT_HASHED,
)


@dataclass(frozen=True)
class Problem:
    """One failed check: a stable code and a sentence for people (never a secret)."""

    code: str
    detail: str


class InvalidNkey(ValueError):
    """A string that is not an encoded nkey public key."""


class InvalidJwt(ValueError):
    """A string that is not a decodable JWT."""


@dataclass(frozen=True)
class DecodedJwt:
    """A JWT split into its parts; nothing about it has been verified yet."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _short(value: object, length: int = 12) -> str:
    text = str(value)
    return text if len(text) <= length else f"{text[:length]}…"


def decode_public_key(value: str) -> tuple[str, bytes]:
    """Return (kind, raw 32-byte ed25519 key) of an encoded nkey public key.

    Raises InvalidNkey naming what is wrong: not base32, wrong length, checksum, prefix.
    """
    if not isinstance(value, str) or len(value) != PUBLIC_KEY_LENGTH:
        raise InvalidNkey(f"not {PUBLIC_KEY_LENGTH} characters")
    return _decode_public_key(value)


@functools.lru_cache(maxsize=4096)
def _decode_public_key(value: str) -> tuple[str, bytes]:
    """Cached: every credential of an account names that account's key two or three times,
    and base32 plus CRC-16 in Python cost more than the look-up (errors are not cached)."""
    try:
        raw = base64.b32decode(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidNkey("not base32") from exc
    if len(raw) != _RAW_LENGTH:
        raise InvalidNkey("wrong decoded length")
    body, checksum = raw[:-2], raw[-2:]
    if nkeys.crc16_checksum(body) != checksum:
        raise InvalidNkey("checksum does not match")
    kind = _KINDS.get(body[0])
    if kind is None:
        raise InvalidNkey("not a public-key prefix")
    return kind, bytes(body[1:])


def key_kind(value: str | None) -> str | None:
    """The kind of nkey ``value`` is ("user", "account", ...), or None if it is none."""
    try:
        return decode_public_key(value or "")[0]
    except InvalidNkey:
        return None


def is_seed(value: object) -> bool:
    """Whether ``value`` is an nkey seed itself (the private key, ``SU...``), blanks aside.

    Seed 002 keeps a hash of the seed, never the seed; a service that stored the seed
    left a secret in the clear, and whoever reads it can act as the user.
    """
    if not isinstance(value, str):
        return False
    try:
        nkeys.decode_seed(value.strip().encode("ascii"))
    except (nkeys.NkeysError, UnicodeEncodeError, ValueError):
        return False
    return True


def _key_problems(
    value: str | None, expected: str, invalid: str, wrong_kind: str, name: str
) -> list[Problem]:
    try:
        kind, _ = decode_public_key(value or "")
    except InvalidNkey as exc:
        return [Problem(invalid, f"{name} {_short(value)!r} is not an nkey: {exc}")]
    if kind != expected:
        return [
            Problem(wrong_kind, f"{name} {_short(value)} is a {kind} key, not a {expected} key")
        ]
    return []


def _b64url(segment: str) -> bytes:
    # NATS writes unpadded base64url; tolerate the standard alphabet and padding too.
    text = segment.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidJwt("a part is not base64url") from exc


def decode_jwt(token: str | None) -> DecodedJwt:
    """Split and decode a JWT without verifying it. Raises InvalidJwt."""
    if not token or not isinstance(token, str):
        raise InvalidJwt("empty")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidJwt(f"{len(parts)} parts, not 3")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidJwt("header or claims are not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidJwt("header or claims are not JSON objects")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", errors="replace")
    return DecodedJwt(header, claims, signing_input, _b64url(parts[2]))


def signature_valid(public_key: str, signing_input: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s ed25519 signature of ``signing_input``."""
    try:
        _, raw = decode_public_key(public_key)
        nacl.signing.VerifyKey(raw).verify(signing_input, signature)
    except (InvalidNkey, nacl.exceptions.CryptoError, ValueError, TypeError):
        return False  # BadSignatureError is a CryptoError; a short signature a ValueError
    return True


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the engine stores UTC where there is no zone
    return moment


def expiry_matches(exp: Any, expires_at: datetime | str | None) -> bool:
    """Whether a JWT ``exp`` claim and the row's ``expires_at`` say the same (to the second).

    NATS omits ``exp`` (or writes 0) for a credential that never expires.
    """
    moment = _as_datetime(expires_at)
    if exp in (None, 0):
        return moment is None
    if moment is None or isinstance(exp, bool) or not isinstance(exp, int | float):
        return False
    if not math.isfinite(exp):  # JSON as Python reads it: NaN, or 1e400 as infinity
        return False
    return int(exp) == int(moment.timestamp())


def check_user_credential(
    *,
    public_key: str | None,
    jwt: str | None,
    account_public_key: str | None,
    account_key: str | None,
    account_signing_keys: Iterable[str | None] = (),
    expires_at: datetime | str | None = None,
    account_known: bool = True,
    check_expiry: bool = True,
    seed_hash: str | None = None,
) -> list[Problem]:
    """Every problem of one ``nats_user_credential`` row; an empty list means it passed.

    ``account_public_key`` is the row's own column; ``account_key`` and
    ``account_signing_keys`` come from the ``nats_account`` row it points at (by
    ``account_id``, else by that key), and ``account_known`` says whether there is one.
    ``check_expiry`` is False where the table has no ``expires_at`` to compare ``exp`` with.
    """
    problems = _key_problems(public_key, USER, USER_KEY_INVALID, USER_KEY_WRONG_KIND, "public_key")
    problems += _key_problems(
        account_public_key,
        ACCOUNT,
        ACCOUNT_KEY_INVALID,
        ACCOUNT_KEY_WRONG_KIND,
        "account_public_key",
    )
    if is_seed(seed_hash):
        problems.append(
            Problem(SEED_NOT_HASHED, "seed_hash holds the nkey seed itself, not a hash of it")
        )
    signing_keys = {key for key in account_signing_keys if key}
    if not account_known:
        problems.append(Problem(ACCOUNT_MISSING, "no nats_account row for this credential"))
    elif account_key != account_public_key:
        problems.append(
            Problem(
                ACCOUNT_KEY_MISMATCH,
                f"account_public_key {_short(account_public_key)} is not the key of its"
                f" account ({_short(account_key)})",
            )
        )
    issuers = {key for key in (account_public_key, account_key) if key} | signing_keys
    try:
        token = decode_jwt(jwt)
    except InvalidJwt as exc:
        return [*problems, Problem(JWT_MALFORMED, f"the JWT does not decode: {exc}")]
    problems += _jwt_problems(token, public_key, account_key or account_public_key, issuers)
    if check_expiry and not expiry_matches(token.claims.get("exp"), expires_at):
        problems.append(
            Problem(
                JWT_EXPIRY_MISMATCH,
                f"exp {token.claims.get('exp')!r} does not match expires_at {expires_at}",
            )
        )
    return problems


def _jwt_problems(
    token: DecodedJwt, public_key: str | None, account: str | None, issuers: set[str]
) -> list[Problem]:
    problems = []
    claims = token.claims
    algorithm = token.header.get("alg")
    # A claim may hold any JSON: only a string can name an algorithm or a key.
    if not isinstance(algorithm, str) or algorithm not in JWT_ALGORITHMS:
        problems.append(Problem(JWT_ALGORITHM_UNSUPPORTED, f"alg is {algorithm!r}"))
    nats = claims.get("nats")
    if isinstance(nats, dict) and nats.get("type", "user") != "user":
        problems.append(Problem(JWT_NOT_USER, f"nats.type is {nats.get('type')!r}"))
    subject = claims.get("sub")
    if subject != public_key:
        problems.append(
            Problem(JWT_SUBJECT_MISMATCH, f"sub {_short(subject)} is not {_short(public_key)}")
        )
    issuer = claims.get("iss")
    # Signed by a signing key, the JWT names its account in nats.issuer_account.
    issuer_account = nats.get("issuer_account") if isinstance(nats, dict) else None
    if (
        not isinstance(issuer, str)
        or issuer not in issuers
        or (issuer_account and issuer_account != account)
    ):
        problems.append(
            Problem(
                JWT_ISSUER_MISMATCH,
                f"iss {_short(issuer)} is neither the account {_short(account)} nor its"
                " signing key",
            )
        )
    if not isinstance(issuer, str) or key_kind(issuer) != ACCOUNT:
        problems.append(
            Problem(JWT_SIGNATURE_INVALID, f"iss {_short(issuer)} is not an account nkey")
        )
    elif not signature_valid(issuer, token.signing_input, token.signature):
        problems.append(
            Problem(JWT_SIGNATURE_INVALID, f"the signature does not verify with {_short(issuer)}")
        )
    return problems


def check_account(*, public_key: str | None, signing_key: str | None) -> list[Problem]:
    """Problems of one ``nats_account`` row: its keys must be account nkeys."""
    problems = _key_problems(
        public_key, ACCOUNT, ACCOUNT_KEY_INVALID, ACCOUNT_KEY_WRONG_KIND, "public_key"
    )
    if signing_key:
        # An account signing key is itself an account-kind nkey.
        problems += _key_problems(
            signing_key,
            ACCOUNT,
            SIGNING_KEY_INVALID,
            SIGNING_KEY_INVALID,
            "signing_key_public",
        )
    return problems


def claims_of(token: str | None) -> dict[str, Any] | None:
    """The decoded claims of a JWT for display (unverified), or None if it does not decode."""
    try:
        return decode_jwt(token).claims
    except InvalidJwt:
        return None
