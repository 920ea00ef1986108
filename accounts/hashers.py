"""Password hashers for hashes copied unchanged from the legacy user tables.

The copy stores a legacy hash as ``<algorithm>$<legacy hash>`` (see
``authcore.lib.hash_formats.to_django_password``), so Django picks the hasher below by that
prefix. These hashers only *verify*: ``must_update`` is always True, so after the first
successful login Django re-hashes the password with the default (first) hasher and the legacy
hash is gone. New passwords never use them, hence ``encode`` refuses.

Every ``verify`` answers False, never raises, for anything that is not exactly the recognised
format (a malformed copied hash must look like a wrong password, not be a server error), and
compares digests in constant time.

The pbkdf2 and scrypt hashers re-implement passlib's and werkzeug's checks with ``hashlib``:
passlib is unmaintained and werkzeug is not a dependency of this project. The tests compare them
with hashes made by the real libraries.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.hashers import BasePasswordHasher, BCryptPasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _

from authcore.lib import hash_formats

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

__all__ = [
    "BCRYPT_MAX_PASSWORD_BYTES",
    "LegacyArgon2PasswordHasher",
    "LegacyBcryptPasswordHasher",
    "PasslibPBKDF2SHA256PasswordHasher",
    "TruncatingBCryptPasswordHasher",
    "WerkzeugPBKDF2PasswordHasher",
    "WerkzeugScryptPasswordHasher",
]

BCRYPT_MAX_PASSWORD_BYTES = 72
"""bcrypt only ever used the first 72 bytes of a password. bcrypt < 5 truncated silently (so
the legacy hashes are hashes of the truncated password); bcrypt >= 5 raises ValueError instead."""


def _bcrypt_password(password: str) -> bytes:
    """The bytes bcrypt < 5 actually hashed: UTF-8, cut at 72 bytes (even mid-character)."""
    return password.encode("utf-8")[:BCRYPT_MAX_PASSWORD_BYTES]


class _LegacyPasswordHasher(BasePasswordHasher):
    """Common frame: unwrap ``<algorithm>$<legacy hash>``, check it, never raise."""

    algorithm: str
    format_name: ClassVar[str]
    """The ``hash_formats`` census label of the legacy hashes this hasher verifies."""

    if TYPE_CHECKING:
        # Django's, missing from django-stubs: imports ``library`` once, with a clear error.
        def _load_library(self) -> Any: ...

    def _legacy_hash(self, encoded: str) -> str:
        """The legacy hash inside ``encoded``; ValueError unless it is exactly the format."""
        prefix = self.algorithm + "$"
        if not isinstance(encoded, str) or not encoded.startswith(prefix):
            raise ValueError(f"not a {self.algorithm} password")
        legacy = encoded[len(prefix) :]
        if not hash_formats.get_format(self.format_name).matches(legacy):
            raise ValueError(f"malformed {self.algorithm} password")
        return legacy

    def _check(self, password: str, legacy: str) -> bool:
        """Whether ``password`` matches the well-formed ``legacy`` hash (may raise)."""
        raise NotImplementedError

    def verify(self, password: str, encoded: str) -> bool:
        """True only for the right password; False (never an exception) for anything else."""
        if not isinstance(password, str):
            return False
        try:
            return self._check(password, self._legacy_hash(encoded))
        except Exception:  # a bad copied hash must read as a wrong password, not a 500
            return False

    def encode(self, password: str, salt: str) -> str:
        raise NotImplementedError(
            f"{type(self).__name__} only verifies hashes copied from the legacy tables; "
            "new passwords are hashed with the default hasher (first in PASSWORD_HASHERS)."
        )

    def must_update(self, encoded: str) -> bool:
        """Always: the next successful login re-hashes with the default hasher."""
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        """No-op: Django calls it for the preferred hasher only, never ours.

        EmailBackend pays one default hash after a failed check of ours instead, so a
        legacy user's login takes as long as an unknown address's.
        """

    def _decode(self, legacy: str) -> dict[str, Any]:
        raise NotImplementedError

    def decode(self, encoded: str) -> dict[str, Any]:
        """The hash's parts (``algorithm``, ``salt``, ``hash``, ...); ValueError if malformed."""
        return {"algorithm": self.algorithm, **self._decode(self._legacy_hash(encoded))}

    def safe_summary(self, encoded: str) -> dict[StrOrPromise, Any]:
        """What the admin shows: parameters in clear, salt and hash masked. Never raises."""
        try:
            decoded = self.decode(encoded)
        except ValueError:
            return {_("algorithm"): self.algorithm, _("hash"): mask_hash(str(encoded), show=0)}
        return {
            _(key): mask_hash(value) if key in ("salt", "hash") else value
            for key, value in decoded.items()
        }


class LegacyBcryptPasswordHasher(_LegacyPasswordHasher):
    """``legacy_bcrypt$`` + ``$2a$``/``$2b$``/``$2y$`` hashes from the auth service."""

    algorithm = "legacy_bcrypt"
    format_name = "bcrypt"
    library = "bcrypt"

    def _check(self, password: str, legacy: str) -> bool:
        bcrypt = self._load_library()
        stored = legacy.encode("ascii")
        # $2y$ (PHP's name) is the same algorithm as $2b$; rewrite it so that any bcrypt
        # release accepts it, and compare against the rewritten string.
        if stored.startswith(b"$2y$"):
            stored = b"$2b$" + stored[4:]
        computed = bcrypt.hashpw(_bcrypt_password(password), stored)
        return hmac.compare_digest(computed, stored)

    def _decode(self, legacy: str) -> dict[str, Any]:
        _empty, ident, cost, data = legacy.split("$")
        return {"ident": ident, "work_factor": int(cost), "salt": data[:22], "hash": data[22:]}


class LegacyArgon2PasswordHasher(_LegacyPasswordHasher):
    """``legacy_argon2$`` + ``$argon2id$``/``$argon2i$``/``$argon2d$`` strings, any parameters."""

    algorithm = "legacy_argon2"
    format_name = "argon2"
    library = "argon2"

    def _check(self, password: str, legacy: str) -> bool:
        argon2 = self._load_library()
        # PasswordHasher().verify reads type and parameters from the hash itself; it raises
        # VerifyMismatchError for a wrong password and other Argon2Errors for bad hashes.
        try:
            return bool(argon2.PasswordHasher().verify(legacy, password))
        except argon2.exceptions.VerificationError:
            return False

    def _decode(self, legacy: str) -> dict[str, Any]:
        parts = legacy.split("$")
        if len(parts) == 5:  # version 1.0 hashes omit "v="
            parts.insert(2, "v=16")
        _empty, variety, version, params, salt, digest = parts
        values = dict(item.split("=", 1) for item in params.split(","))
        return {
            "variety": variety,
            "version": int(version.removeprefix("v=")),
            "memory_cost": int(values["m"]),
            "time_cost": int(values["t"]),
            "parallelism": int(values["p"]),
            "salt": salt,
            "hash": digest,
        }


def _ab64_decode(data: str) -> bytes:
    """Decode passlib's adapted base64 exactly as ``passlib.utils.binary.ab64_decode`` does.

    "." stands for "+", padding is omitted; a length of 4k+1 characters is invalid.
    """
    raw = data.encode("ascii").replace(b".", b"+")
    remainder = len(raw) % 4
    if remainder == 1:
        raise ValueError("invalid base64 input")
    return binascii.a2b_base64(raw + b"=" * ((4 - remainder) % 4))


class PasslibPBKDF2SHA256PasswordHasher(_LegacyPasswordHasher):
    """``passlib_pbkdf2_sha256$`` + passlib's ``$pbkdf2-sha256$<rounds>$<salt>$<digest>``."""

    algorithm = "passlib_pbkdf2_sha256"
    format_name = "passlib_pbkdf2_sha256"
    # passlib's own bounds for pbkdf2_sha256 (it refuses hashes outside them).
    max_rounds = 0xFFFFFFFF
    max_salt_bytes = 1024
    digest_bytes = 32

    def _parts(self, legacy: str) -> tuple[int, bytes, bytes]:
        _empty, _ident, rounds, salt, digest = legacy.split("$")
        parsed = (int(rounds), _ab64_decode(salt), _ab64_decode(digest))
        if not 1 <= parsed[0] <= self.max_rounds or len(parsed[1]) > self.max_salt_bytes:
            raise ValueError("pbkdf2_sha256 parameters out of range")
        if len(parsed[2]) != self.digest_bytes:
            raise ValueError("pbkdf2_sha256 digest has the wrong size")
        return parsed

    def _check(self, password: str, legacy: str) -> bool:
        rounds, salt, digest = self._parts(legacy)
        # passlib: pbkdf2_hmac("sha256", secret as UTF-8, raw salt bytes, rounds, 32 bytes).
        computed = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds)
        return hmac.compare_digest(computed, digest)

    def _decode(self, legacy: str) -> dict[str, Any]:
        self._parts(legacy)  # ValueError if the parts do not decode
        _empty, _ident, rounds, salt, digest = legacy.split("$")
        return {"iterations": int(rounds), "salt": salt, "hash": digest}


class WerkzeugPBKDF2PasswordHasher(_LegacyPasswordHasher):
    """``werkzeug_pbkdf2$`` + werkzeug's ``pbkdf2:<digest>:<iterations>$<salt>$<hex>``."""

    algorithm = "werkzeug_pbkdf2"
    format_name = "werkzeug_pbkdf2"

    @staticmethod
    def _parts(legacy: str) -> tuple[str, int, str, str]:
        method, salt, hex_digest = legacy.split("$", 2)
        _pbkdf2, digest_name, iterations = method.split(":")
        return digest_name, int(iterations), salt, hex_digest

    def _check(self, password: str, legacy: str) -> bool:
        digest_name, iterations, salt, hex_digest = self._parts(legacy)
        # werkzeug.security._hash_internal: the salt *text* is the salt, UTF-8 encoded.
        computed = hashlib.pbkdf2_hmac(
            digest_name, password.encode("utf-8"), salt.encode("utf-8"), iterations
        ).hex()
        return hmac.compare_digest(computed, hex_digest)

    def _decode(self, legacy: str) -> dict[str, Any]:
        digest_name, iterations, salt, hex_digest = self._parts(legacy)
        return {"digest": digest_name, "iterations": iterations, "salt": salt, "hash": hex_digest}


class WerkzeugScryptPasswordHasher(_LegacyPasswordHasher):
    """``werkzeug_scrypt$`` + werkzeug's ``scrypt:<n>:<r>:<p>$<salt>$<hex>``."""

    algorithm = "werkzeug_scrypt"
    format_name = "werkzeug_scrypt"

    @staticmethod
    def _parts(legacy: str) -> tuple[int, int, int, str, str]:
        method, salt, hex_digest = legacy.split("$", 2)
        _scrypt, n, r, p = method.split(":")
        return int(n), int(r), int(p), salt, hex_digest

    def _check(self, password: str, legacy: str) -> bool:
        n, r, p, salt, hex_digest = self._parts(legacy)
        # werkzeug.security._hash_internal, with its memory allowance and the default 64 bytes.
        computed = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt.encode("utf-8"),
            n=n,
            r=r,
            p=p,
            maxmem=132 * n * r * p,
        ).hex()
        return hmac.compare_digest(computed, hex_digest)

    def _decode(self, legacy: str) -> dict[str, Any]:
        n, r, p, salt, hex_digest = self._parts(legacy)
        return {
            "work_factor": n,
            "block_size": r,
            "parallelism": p,
            "salt": salt,
            "hash": hex_digest,
        }


class TruncatingBCryptPasswordHasher(BCryptPasswordHasher):
    """Django's ``bcrypt$`` hasher, with the 72-byte truncation bcrypt < 5 did by itself.

    ``bcrypt$`` rows were written by Django with bcrypt < 5, which hashed only the first 72
    bytes of the password. With bcrypt >= 5, Django's BCryptPasswordHasher raises ValueError
    for longer passwords (a server error at login). Same algorithm name, so it replaces
    ``django.contrib.auth.hashers.BCryptPasswordHasher`` in PASSWORD_HASHERS.
    """

    if TYPE_CHECKING:
        # Django's, missing from django-stubs (see _LegacyPasswordHasher).
        def _load_library(self) -> Any: ...

    def encode(self, password: str, salt: bytes | str) -> str:
        bcrypt = self._load_library()
        if isinstance(salt, str):
            salt = salt.encode("ascii")
        data = bcrypt.hashpw(_bcrypt_password(password), salt)
        return f"{self.algorithm}${data.decode('ascii')}"

    def verify(self, password: str, encoded: str) -> bool:
        """Django's check with truncation; a malformed hash is False, not ValueError."""
        try:
            return super().verify(password, encoded)
        except (ValueError, TypeError, AssertionError, UnicodeError):
            return False
