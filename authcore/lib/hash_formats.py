"""Recognise the password-hash formats found in the legacy user tables.

The copy engine sorts every stored hash into exactly one census label and turns it into a
value for Django's ``password`` column. It does so twice: in Python (``classify`` and
``to_django_password`` below) and inside the database, where it evaluates the very same
``pattern`` strings with PostgreSQL's ``~`` (POSIX ARE) or SQLite's ``REGEXP`` (Django runs
Python's ``re.search`` for it). Both must give the same answer for every string, so each
pattern keeps to the syntax the two engines read identically:

* the pattern is anchored at both ends, ``^`` ... ``\\Z``. ``\\Z`` (end of string) and not
  ``$``: Python's ``$`` also matches just before a trailing newline, so ``re.search`` would
  accept ``"<hash>\\n"`` while PostgreSQL rejects it. ``\\Z`` means "end of string" in both;
* literal characters escaped with a backslash (``\\$``, ``\\.``);
* bracket classes with explicit ranges (``[A-Za-z0-9./]``), never ``\\d``/``\\w``/``\\s`` or
  ``[[:alpha:]]``;
* counted (``{n}``, ``{m,n}``, ``{m,}``) and plain (``+ * ?``) greedy quantifiers, plain groups
  ``( )`` and alternation ``|``; no ``(?...)`` of any kind, no flags.

A pattern describes exactly what the generating library writes: nothing is guessed. A hash that
fits no pattern is reported as unrecognised and its account gets an unusable password.

This module is pure Python on purpose (no Django import): the census and tests use it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "EMPTY",
    "EMPTY_PATTERN",
    "HASH_FORMATS",
    "UNRECOGNISED",
    "UNUSABLE_PASSWORD",
    "HashFormat",
    "SqlBranch",
    "classify",
    "find_format",
    "get_format",
    "to_django_password",
]


class SqlBranch(NamedTuple):
    """Part of a format, as SQL tests it: ``start`` and ``length`` first, then ``pattern``."""

    start: str
    pattern: str
    length: int | None = None  # the exact length in characters, where the format fixes it

    def matches(self, stored: str) -> bool:
        """How the database decides it (the property tests hold it to the format's pattern)."""
        return (
            stored.startswith(self.start)
            and (self.length is None or len(stored) == self.length)
            and re.search(self.pattern, stored) is not None
        )


@dataclass(frozen=True)
class HashFormat:
    """One stored-hash format: its census label, its SQL-safe pattern, its Django prefix."""

    name: str
    """Census label, e.g. ``"bcrypt"``; also how the copy engine reports the row."""
    pattern: str
    """Regex for the WHOLE stored hash (``^...\\Z``), in the PostgreSQL/Python common subset."""
    django_prefix: str
    """Prepended so that a Django hasher claims the hash; ``""`` if already in a Django encoding."""
    branches: tuple[SqlBranch, ...] = ()
    """Branches whose union is ``pattern``, for SQL: comparing a string's first characters
    or its length is cheap, running a regex with long counted repeats is not (PostgreSQL
    spends several microseconds per row on each), so the database runs a branch's regex
    only on strings that start right. Empty: one branch, no start."""

    def sql_branches(self) -> tuple[SqlBranch, ...]:
        return self.branches or (SqlBranch("", self.pattern),)

    def matches(self, stored: str) -> bool:
        """Whether ``stored`` is in this format, decided exactly as SQLite's REGEXP decides it."""
        return re.search(self.pattern, stored) is not None


# --- building blocks (kept as plain strings so the final patterns stay readable) -----------

_END = r"\Z"
_UINT = "[1-9][0-9]{0,9}"  # a positive decimal without leading zeros, as every writer emits
_NUM = "[0-9]{1,10}"  # argon2 m/t/p: 32-bit decimals as libargon2 writes them
_ALNUM = "[A-Za-z0-9]"  # salts made by werkzeug.security.gen_salt and Django get_random_string
_B64 = "[A-Za-z0-9+/]"  # standard base64 alphabet (argon2 PHC strings, Django digests)
_AB64 = "[./A-Za-z0-9]"  # passlib's "adapted base64": "." instead of "+", no padding
_BCRYPT64 = "[./A-Za-z0-9]"  # bcrypt's own base64 alphabet (different order, same set)
_HEX = "[0-9a-f]"  # hashlib's .hex(): lower case only

# bcrypt modular-crypt string: $2a$/$2b$/$2y$, two-digit cost, 22-char salt + 31-char digest.
_BCRYPT = r"\$2[aby]\$[0-9]{2}\$" + _BCRYPT64 + "{53}"

# argon2 PHC string as written by libargon2 (argon2-cffi, pwdlib, passlib). "v=" is absent in
# version 1.0 (0x10) hashes written by passlib; libargon2 accepts both. Salt >= 8 bytes and
# digest >= 4 bytes are libargon2's minimums; base64 without "=" padding (libargon2 rejects it).
_ARGON2 = (
    r"\$argon2(id|i|d)\$(v=(16|19)\$)?"
    f"m={_NUM},t={_NUM},p={_NUM}"
    rf"\${_B64}{{11,}}\${_B64}{{6,}}"
)

# passlib pbkdf2_sha256: rounds without zero padding; salt 0..1024 raw bytes in adapted base64
# (a length of 4k+1 characters cannot be base64, passlib rejects it); 32-byte digest = 43 chars.
_PASSLIB_PBKDF2_SHA256 = (
    rf"\$pbkdf2-sha256\${_UINT}\$({_AB64}{{4}})*({_AB64}{{2,3}})?\${_AB64}{{43}}"
)

# werkzeug generate_password_hash("pbkdf2[:<digest>[:<iterations>]]"): every werkzeug version
# writes the full "pbkdf2:<digest>:<iterations>" (the iteration count is never left out), an
# alphanumeric salt, and the digest in lower-case hex whose length fixes the hash function.
# "pbkdf2:sha256$..." without iterations is NOT accepted: no version wrote it, and checking it
# would mean guessing the iteration default of whichever werkzeug version once read it.
_WERKZEUG_DIGEST_HEX_LENGTHS = {
    "sha1": 40,
    "sha224": 56,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
}
_WERKZEUG_PBKDF2 = (
    "pbkdf2:("
    + "|".join(
        rf"{digest}:{_UINT}\${_ALNUM}+\${_HEX}{{{hex_length}}}"
        for digest, hex_length in _WERKZEUG_DIGEST_HEX_LENGTHS.items()
    )
    + ")"
)

# werkzeug generate_password_hash("scrypt[:n:r:p]") always writes "scrypt:<n>:<r>:<p>"; the
# digest is hashlib.scrypt's default 64 bytes = 128 hex characters.
_WERKZEUG_SCRYPT = rf"scrypt:{_UINT}:{_UINT}:{_UINT}\${_ALNUM}+\${_HEX}{{128}}"

# Django's own encodings, as written by make_password with Django's hashers. They are stored
# as they are: Django's hashers (registered in settings) verify them directly.
_DJANGO_ENCODINGS = (
    # pbkdf2_sha256$<iterations>$<salt>$<base64 of 32 bytes>
    rf"pbkdf2_sha256\${_UINT}\${_ALNUM}+\${_B64}{{43}}=",
    # pbkdf2_sha1$<iterations>$<salt>$<base64 of 20 bytes>
    rf"pbkdf2_sha1\${_UINT}\${_ALNUM}+\${_B64}{{27}}=",
    # argon2$<argon2 PHC string without its leading "$">
    r"argon2" + _ARGON2,
    # bcrypt_sha256$<bcrypt string>, bcrypt$<bcrypt string>
    r"bcrypt_sha256\$" + _BCRYPT,
    r"bcrypt\$" + _BCRYPT,
    # scrypt$<n>$<salt>$<r>$<p>$<base64 of 64 bytes>
    rf"scrypt\${_UINT}\${_ALNUM}+\${_UINT}\${_UINT}\${_B64}{{86}}==",
)
_DJANGO = "(" + "|".join(_DJANGO_ENCODINGS) + ")"


def _whole(body: str) -> str:
    """Anchor a pattern body to the whole string (see the module docstring for why ``\\Z``)."""
    return "^" + body + _END


def _literal_start(body: str) -> str:
    """The literal text a pattern body begins with, up to its first escaped ``$``."""
    start = body.split("\\$", 1)[0]
    assert re.fullmatch("[a-z0-9_]+", start), start
    return start + "$"


HASH_FORMATS: tuple[HashFormat, ...] = (
    HashFormat(
        "bcrypt",
        _whole(_BCRYPT),
        "legacy_bcrypt$",
        # 60 characters; "{53}" alone made the regex cost six times as much.
        (SqlBranch("$2", _whole(_BCRYPT.replace("{53}", "+")), 60),),
    ),
    HashFormat(
        "argon2", _whole(_ARGON2), "legacy_argon2$", (SqlBranch("$argon2", _whole(_ARGON2)),)
    ),
    HashFormat(
        "passlib_pbkdf2_sha256",
        _whole(_PASSLIB_PBKDF2_SHA256),
        "passlib_pbkdf2_sha256$",
        (SqlBranch("$pbkdf2-sha256$", _whole(_PASSLIB_PBKDF2_SHA256)),),
    ),
    HashFormat(
        "werkzeug_pbkdf2",
        _whole(_WERKZEUG_PBKDF2),
        "werkzeug_pbkdf2$",
        tuple(
            SqlBranch(
                f"pbkdf2:{digest}:",
                _whole(rf"pbkdf2:{digest}:{_UINT}\${_ALNUM}+\${_HEX}{{{length}}}"),
            )
            for digest, length in _WERKZEUG_DIGEST_HEX_LENGTHS.items()
        ),
    ),
    HashFormat(
        "werkzeug_scrypt",
        _whole(_WERKZEUG_SCRYPT),
        "werkzeug_scrypt$",
        (SqlBranch("scrypt:", _whole(_WERKZEUG_SCRYPT)),),
    ),
    HashFormat(
        "django",
        _whole(_DJANGO),
        "",
        tuple(SqlBranch(_literal_start(body), _whole(body)) for body in _DJANGO_ENCODINGS),
    ),
)
"""The recognised formats, in order: the first whose pattern matches wins (they are disjoint)."""

EMPTY = "empty"
"""Census label for a NULL, empty or whitespace-only password column: no password was set."""

EMPTY_PATTERN = "^[ \t\n\r\f\v]*" + _END
"""What counts as "whitespace-only" (ASCII whitespace, real control characters in the class),
so that SQL (``col IS NULL OR col ~ EMPTY_PATTERN``) and ``classify`` agree on EMPTY."""

UNRECOGNISED = "unrecognised"
"""Census label for anything no pattern matches: never guessed at, reported instead."""

UNUSABLE_PASSWORD = "!"
"""Django treats every password that starts with "!" as unusable (no login by password)."""

_BY_NAME: dict[str, HashFormat] = {fmt.name: fmt for fmt in HASH_FORMATS}


def get_format(name: str) -> HashFormat:
    """The format with census label ``name`` (KeyError if there is none)."""
    return _BY_NAME[name]


def find_format(stored: str | None) -> HashFormat | None:
    """The first format whose pattern matches ``stored`` unchanged, or None.

    The hash is never stripped or otherwise altered: a padded hash is not the hash that was
    written, and the database side must see the same string as Python does.
    """
    if not isinstance(stored, str):
        return None
    for fmt in HASH_FORMATS:
        if fmt.matches(stored):
            return fmt
    return None


def classify(stored: str | None) -> str:
    """Census label of a stored hash: a format name, ``EMPTY`` or ``UNRECOGNISED``. Never raises."""
    if stored is None or (isinstance(stored, str) and re.search(EMPTY_PATTERN, stored)):
        return EMPTY
    fmt = find_format(stored)
    return fmt.name if fmt is not None else UNRECOGNISED


def to_django_password(stored: str | None) -> str:
    """Value for Django's ``password`` column: ``django_prefix + stored`` for a recognised hash.

    Anything else (empty, NULL, unrecognised) becomes ``UNUSABLE_PASSWORD`` so that the account
    exists but cannot log in with a password until it is reset.
    """
    if not isinstance(stored, str):
        return UNUSABLE_PASSWORD
    fmt = find_format(stored)
    if fmt is None:
        return UNUSABLE_PASSWORD
    return fmt.django_prefix + stored
