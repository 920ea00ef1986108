"""The hash-format recogniser: real hashes in, census labels and Django passwords out.

Reference hashes come from the real libraries (bcrypt, argon2-cffi, passlib, werkzeug,
Django). ``reference_hashes()`` is shared with ``test_hashers.py``.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcore.lib.hash_formats import (
    EMPTY,
    EMPTY_PATTERN,
    HASH_FORMATS,
    UNRECOGNISED,
    UNUSABLE_PASSWORD,
    HashFormat,
    classify,
    find_format,
    get_format,
    to_django_password,
)

PASSWORD = "correct horse battery staple"
UNICODE_PASSWORD = "pässwörd ✓ 日本語 🔑"
# 87 UTF-8 bytes; byte 72 falls inside a two-byte "é": bcrypt < 5 hashed bytes[:72].
LONG_PASSWORD = "x" * 61 + "é" * 12 + "tail"

LABELS = {fmt.name for fmt in HASH_FORMATS} | {EMPTY, UNRECOGNISED}


# --- reference hashes made by the real libraries ----------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A real hash, the password it was made from, and what it must be recognised as."""

    label: str
    format: str
    password: str
    stored: str

    @property
    def algorithm(self) -> str:
        """The Django hasher algorithm that must claim ``to_django_password(stored)``."""
        prefix = get_format(self.format).django_prefix
        return prefix[:-1] if prefix else self.stored.split("$", 1)[0]


def _bcrypt(password: str, prefix: bytes = b"2b", rounds: int = 4) -> str:
    import bcrypt

    # bcrypt < 5 (the old service) silently hashed the first 72 bytes; bcrypt 5 refuses more.
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds, prefix=prefix)).decode()


def _argon2(password: str, kind: str = "ID", **params: int) -> str:
    import argon2

    cheap = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    hasher = argon2.PasswordHasher(type=getattr(argon2.Type, kind), **(cheap | params))
    return hasher.hash(password)


def _argon2_v10(password: str) -> str:
    """An argon2i version 1.0 hash in passlib's spelling: no ``v=`` field."""
    from argon2.low_level import Type, hash_secret

    encoded = hash_secret(
        password.encode(), b"sixteen-byte-slt", 2, 1024, 1, 32, Type.I, version=0x10
    ).decode()
    assert encoded.startswith("$argon2i$v=16$")
    return encoded.replace("$v=16$", "$", 1)


def _passlib_argon2(password: str) -> str:
    from passlib.hash import argon2

    return argon2.using(memory_cost=1024, rounds=1, parallelism=1).hash(password)


def _passlib_pbkdf2(password: str, **using: int) -> str:
    from passlib.hash import pbkdf2_sha256

    return (pbkdf2_sha256.using(**using) if using else pbkdf2_sha256).hash(password)


def _werkzeug(password: str, method: str, salt_length: int = 16) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method=method, salt_length=salt_length)


def _django(password: str, algorithm: str, **params: int) -> str:
    """A hash written by Django's own hasher; pbkdf2 with few iterations to keep tests fast."""
    from django.contrib.auth.hashers import get_hasher, make_password

    if params:
        hasher = get_hasher(algorithm)
        return hasher.encode(password, hasher.salt(), **params)
    return make_password(password, hasher=algorithm)


REFERENCE_MAKERS: dict[str, tuple[str, str, Callable[[str], str]]] = {
    # label: (format, password, maker)
    "bcrypt-2b": ("bcrypt", PASSWORD, _bcrypt),
    "bcrypt-2b-cost10": ("bcrypt", UNICODE_PASSWORD, lambda pw: _bcrypt(pw, rounds=10)),
    "bcrypt-2a": ("bcrypt", PASSWORD, lambda pw: _bcrypt(pw, prefix=b"2a")),
    "bcrypt-2y": ("bcrypt", PASSWORD, lambda pw: "$2y$" + _bcrypt(pw)[4:]),
    "bcrypt-long": ("bcrypt", LONG_PASSWORD, _bcrypt),
    "argon2id": ("argon2", PASSWORD, _argon2),
    "argon2id-defaults": ("argon2", UNICODE_PASSWORD, lambda pw: _argon2(pw, memory_cost=65536)),
    "argon2i": ("argon2", PASSWORD, lambda pw: _argon2(pw, kind="I")),
    "argon2d": ("argon2", PASSWORD, lambda pw: _argon2(pw, kind="D")),
    "argon2i-v1.0-no-v": ("argon2", PASSWORD, _argon2_v10),
    "argon2id-passlib": ("argon2", UNICODE_PASSWORD, _passlib_argon2),
    "passlib-pbkdf2-default": ("passlib_pbkdf2_sha256", PASSWORD, _passlib_pbkdf2),
    "passlib-pbkdf2-unicode": (
        "passlib_pbkdf2_sha256",
        UNICODE_PASSWORD,
        lambda pw: _passlib_pbkdf2(pw, rounds=1000),
    ),
    **{
        f"passlib-pbkdf2-salt{size}": (
            "passlib_pbkdf2_sha256",
            PASSWORD,
            functools.partial(_passlib_pbkdf2, rounds=1000, salt_size=size),
        )
        for size in (0, 1, 2, 3, 17)
    },
    "werkzeug-pbkdf2-sha256": (
        "werkzeug_pbkdf2",
        PASSWORD,
        lambda pw: _werkzeug(pw, "pbkdf2:sha256:1000"),
    ),
    "werkzeug-pbkdf2-unicode-salt8": (
        "werkzeug_pbkdf2",
        UNICODE_PASSWORD,
        lambda pw: _werkzeug(pw, "pbkdf2:sha256:1000", salt_length=8),
    ),
    "werkzeug-pbkdf2-sha1": (
        "werkzeug_pbkdf2",
        PASSWORD,
        lambda pw: _werkzeug(pw, "pbkdf2:sha1:1000"),
    ),
    "werkzeug-pbkdf2-sha512": (
        "werkzeug_pbkdf2",
        PASSWORD,
        lambda pw: _werkzeug(pw, "pbkdf2:sha512:1000"),
    ),
    "werkzeug-scrypt-default": ("werkzeug_scrypt", PASSWORD, lambda pw: _werkzeug(pw, "scrypt")),
    "werkzeug-scrypt-unicode": (
        "werkzeug_scrypt",
        UNICODE_PASSWORD,
        lambda pw: _werkzeug(pw, "scrypt:1024:8:1"),
    ),
    "django-pbkdf2_sha256": (
        "django",
        PASSWORD,
        lambda pw: _django(pw, "pbkdf2_sha256", iterations=1000),
    ),
    "django-pbkdf2_sha1": (
        "django",
        PASSWORD,
        lambda pw: _django(pw, "pbkdf2_sha1", iterations=1000),
    ),
    "django-argon2": ("django", UNICODE_PASSWORD, lambda pw: _django(pw, "argon2")),
    "django-bcrypt_sha256": ("django", LONG_PASSWORD, lambda pw: _django(pw, "bcrypt_sha256")),
    "django-bcrypt": ("django", PASSWORD, lambda pw: _django(pw, "bcrypt")),
    "django-scrypt": ("django", UNICODE_PASSWORD, lambda pw: _django(pw, "scrypt")),
}


@functools.cache
def reference_hashes() -> dict[str, Reference]:
    """One real hash per label (made once per test session: some makers are slow on purpose)."""
    return {
        label: Reference(label, fmt, password, make(password))
        for label, (fmt, password, make) in REFERENCE_MAKERS.items()
    }


# --- things that must not be recognised --------------------------------------------------------

_H64 = "0123456789abcdef" * 4  # 64 hex characters
_B53 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"  # 53 bcrypt characters

GARBAGE: list[str] = [
    # bcrypt near-misses
    "$2b$12$short",
    "$2b$12$" + _B53[:-1],
    "$2b$12$" + _B53 + "x",
    "$2b$4$" + _B53,
    "$2b$123$" + _B53,
    "$2x$12$" + _B53,
    "$2$12$" + _B53,
    "$2B$12$" + _B53,
    "$2b$12$" + _B53[:-1] + "+",
    "$2b$12$" + _B53[:-1] + "=",
    "2b$12$" + _B53,
    # argon2 near-misses
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0",
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$",
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo=",
    "$argon2id$v=18$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
    "$argon2id$v=19$m=65536,t=3$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
    "$argon2id$v=19$t=3,m=65536,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
    "$argon2x$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
    "$argon2$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
    "$argon2id$v=19$m=65536,t=3,p=4$c2Fsd$aGFzaGhhc2hoYXNo",
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRz.Wx0$aGFzaGhhc2hoYXNo",
    # passlib pbkdf2 near-misses
    "$pbkdf2-sha256$029000$c2FsdHNhbHQ$" + "a" * 43,
    "$pbkdf2-sha256$0$c2FsdHNhbHQ$" + "a" * 43,
    "$pbkdf2-sha256$$c2FsdHNhbHQ$" + "a" * 43,
    "$pbkdf2-sha256$29000$c2FsdHNhbHQ$" + "a" * 42,
    "$pbkdf2-sha256$29000$c2FsdHNhbHQ$" + "a" * 44,
    "$pbkdf2-sha256$29000$c2Fsd$" + "a" * 43,  # 4k+1 characters cannot be base64
    "$pbkdf2-sha256$29000$c2Fsd+Nh$" + "a" * 43,  # "+" is not adapted base64
    "$pbkdf2-sha256$29000$c2FsdHNhbHQ=$" + "a" * 43,  # no padding in adapted base64
    "$pbkdf2-sha256$29000$c2FsdHNhbHQ",
    "$pbkdf2-sha512$29000$c2FsdHNhbHQ$" + "a" * 86,
    "$pbkdf2$29000$c2FsdHNhbHQ$" + "a" * 27,
    # werkzeug near-misses
    "pbkdf2:sha256$saltsalt$" + _H64,  # no iteration count: never written, would be a guess
    "pbkdf2$saltsalt$" + _H64,
    "pbkdf2:sha256:$saltsalt$" + _H64,
    "pbkdf2:sha256:0600000$saltsalt$" + _H64,
    "pbkdf2:sha256:600000$saltsalt$" + _H64.upper(),
    "pbkdf2:sha256:600000$saltsalt$" + _H64[:-1],
    "pbkdf2:sha256:600000$saltsalt$" + _H64 + "0",
    "pbkdf2:sha256:600000$$" + _H64,
    "pbkdf2:sha256:600000$salt-salt$" + _H64,
    "pbkdf2:sha512:600000$saltsalt$" + _H64,
    "pbkdf2:md5:600000$saltsalt$" + _H64[:32],
    "pbkdf2:sha256:600000:1$saltsalt$" + _H64,
    "scrypt:32768:8$saltsalt$" + _H64 * 2,
    "scrypt$saltsalt$" + _H64 * 2,
    "scrypt:32768:8:1$saltsalt$" + _H64,
    "scrypt:32768:8:1$saltsalt$" + _H64 * 2 + "0",
    "sha256$saltsalt$" + _H64,  # werkzeug < 2.3 salted HMAC: not a listed format
    "plain$$hunter2",
    # Django near-misses and Django formats the project does not register
    "pbkdf2_sha256$600000$saltsalt$" + "a" * 43,
    "pbkdf2_sha256$600000$saltsalt$" + "a" * 44 + "=",
    "pbkdf2_sha256$$saltsalt$" + "a" * 43 + "=",
    "pbkdf2_sha256$600000$$" + "a" * 43 + "=",
    "pbkdf2_sha1$600000$saltsalt$" + "a" * 43 + "=",
    "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA",
    "argon2$$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
    "bcrypt$" + "$2b$12$short",
    "bcrypt_sha256$$2b$12$" + _B53[:-1],
    "bcrypt$2b$12$" + _B53,
    "scrypt$16384$saltsalt$8$5$" + "a" * 86 + "=",
    "scrypt$16384$saltsalt$8$" + "a" * 86 + "==",
    "md5$saltsalt$" + _H64[:32],
    "sha1$saltsalt$" + _H64[:40],
    "sha1$$" + _H64[:40],
    "md5$$" + _H64[:32],
    "5f4dcc3b5aa765d61d8327deb882cf99",  # unsalted md5
    "crypt$$ab1234567890",
    "unsalted_md5$$5f4dcc3b5aa765d61d8327deb882cf99",
    "legacy_bcrypt$$2b$12$" + _B53,  # already prefixed: not a raw legacy hash
    # other crypt formats and plain junk
    "$1$saltsalt$qwertyuiopasdfghjklzx.",
    "$5$rounds=5000$saltsalt$" + "a" * 43,
    "$6$saltsalt$" + "a" * 86,
    "{SSHA}c2FsdHNhbHRzYWx0c2FsdHNhbHQ=",
    "password",
    "hunter2",
    "NULL",
    "None",
    "null",
    "*",
    "x",
    "!",
    "!" + "a" * 40,
    "$",
    "$$",
    "$$$$",
    "\x00",
    "é" * 60,
]


def mangled(stored: str) -> list[str]:
    """Copies of a real hash that were padded, cut, cased or carry a stray character."""
    return [
        " " + stored,
        stored + " ",
        stored + "\n",
        stored + "\r\n",
        "\n" + stored,
        stored + "\t",
        stored + "\x00",
        "\ufeff" + stored,
        stored.upper(),
        stored[: len(stored) // 2],
        stored[:-3],
        stored.replace("$", "$$", 1),
        stored.replace("$", " $", 1),
    ]


def negative_samples() -> list[str]:
    samples = list(GARBAGE)
    for ref in reference_hashes().values():
        # A changed hash may still be well-formed; only keep those that are not.
        samples.extend(s for s in mangled(ref.stored) if s != ref.stored)
    return samples


# --- the patterns themselves -------------------------------------------------------------------

# Everything the two regex engines (PostgreSQL ARE and Python re) read the same way.
_ALLOWED_ESCAPES = {r"\$", r"\.", r"\Z"}
_FORBIDDEN = ["(?", "[[:", "[:", "*?", "+?", "??", "}?", "[^"]


@pytest.mark.parametrize("fmt", HASH_FORMATS, ids=lambda f: f.name)
def test_pattern_stays_in_the_common_regex_subset(fmt: HashFormat) -> None:
    pattern = fmt.pattern
    assert pattern.startswith("^") and pattern.endswith(r"\Z")
    assert pattern.count("^") == 1 and "$" not in pattern.replace(r"\$", "")
    for token in _FORBIDDEN:
        assert token not in pattern, token
    brackets = re.findall(r"\[[^\]]*\]", pattern)
    for bracket in brackets:  # literal members and explicit ranges only
        assert re.fullmatch(r"\[([./+=,:_]|[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9])+\]", bracket)
    outside = re.sub(r"\[[^\]]*\]", "", pattern)
    assert "." not in outside.replace(r"\.", "")  # an unescaped "." would match anything
    escapes = set(re.findall(r"\\.", pattern))
    assert escapes <= _ALLOWED_ESCAPES, escapes - _ALLOWED_ESCAPES
    for count in re.findall(r"\{([0-9,]*)\}", pattern):
        assert re.fullmatch(r"[0-9]+(,[0-9]*)?", count), count
        assert max(int(n) for n in count.split(",") if n) <= 255  # RE_DUP_MAX in PostgreSQL
    re.compile(pattern)


def test_format_table() -> None:
    table = {fmt.name: fmt.django_prefix for fmt in HASH_FORMATS}
    assert table == {
        "bcrypt": "legacy_bcrypt$",
        "argon2": "legacy_argon2$",
        "passlib_pbkdf2_sha256": "passlib_pbkdf2_sha256$",
        "werkzeug_pbkdf2": "werkzeug_pbkdf2$",
        "werkzeug_scrypt": "werkzeug_scrypt$",
        "django": "",
    }
    assert len(table) == len(HASH_FORMATS)  # names are unique
    assert not LABELS & {"", UNUSABLE_PASSWORD}
    assert get_format("bcrypt") is HASH_FORMATS[0]
    with pytest.raises(KeyError):
        get_format("md5")


def test_module_is_pure_python() -> None:
    """The recogniser must load without Django (the census and other tools use it alone)."""
    code = (
        "import sys; import authcore.lib.hash_formats; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'imports django'"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


# --- classification of real hashes ------------------------------------------------------------


@pytest.mark.parametrize("label", REFERENCE_MAKERS)
def test_real_hash_is_recognised(label: str) -> None:
    ref = reference_hashes()[label]
    assert classify(ref.stored) == ref.format
    fmt = find_format(ref.stored)
    assert fmt is not None and fmt.name == ref.format
    # Exactly one pattern matches: the order of HASH_FORMATS never decides anything.
    assert [f.name for f in HASH_FORMATS if f.matches(ref.stored)] == [ref.format]


@pytest.mark.parametrize("label", REFERENCE_MAKERS)
def test_real_hash_becomes_a_django_password(label: str) -> None:
    from django.contrib.auth.hashers import identify_hasher, is_password_usable

    ref = reference_hashes()[label]
    password = to_django_password(ref.stored)
    assert password == get_format(ref.format).django_prefix + ref.stored
    assert password.endswith(ref.stored)  # the hash itself is never altered
    assert is_password_usable(password)
    assert identify_hasher(password).algorithm == ref.algorithm


def test_django_hashes_are_stored_unchanged() -> None:
    from django.contrib.auth.hashers import make_password

    # Full-cost Django defaults too (not only the cheap ones used for verification tests).
    for algorithm in ("pbkdf2_sha256", "argon2", "bcrypt_sha256", "scrypt"):
        encoded = make_password(PASSWORD, hasher=algorithm)
        assert classify(encoded) == "django", encoded
        assert to_django_password(encoded) == encoded


def test_werkzeug_and_passlib_default_parameters_are_recognised() -> None:
    """The defaults of today's libraries (slow on purpose: 1,000,000 werkzeug iterations)."""
    stored = _werkzeug(PASSWORD, "pbkdf2")
    assert stored.startswith("pbkdf2:sha256:1000000$")
    assert classify(stored) == "werkzeug_pbkdf2"
    assert _passlib_pbkdf2(PASSWORD).startswith("$pbkdf2-sha256$29000$")


# --- empty, garbage, mangled ------------------------------------------------------------------


@pytest.mark.parametrize("stored", [None, "", " ", "   ", "\t", "\n", "\r\n", " \t\n\r\f\v "])
def test_empty_is_empty_and_unusable(stored: str | None) -> None:
    assert classify(stored) == EMPTY
    assert find_format(stored) is None
    assert to_django_password(stored) == UNUSABLE_PASSWORD


@pytest.mark.parametrize("stored", ["\u00a0", "\u3000", " \x00 "])
def test_other_blank_strings_are_unrecognised(stored: str) -> None:
    """Only ASCII whitespace is EMPTY (EMPTY_PATTERN), so that SQL can say the same."""
    assert classify(stored) == UNRECOGNISED
    assert to_django_password(stored) == UNUSABLE_PASSWORD


@pytest.mark.parametrize("stored", GARBAGE)
def test_garbage_is_unrecognised(stored: str) -> None:
    assert classify(stored) == UNRECOGNISED
    assert find_format(stored) is None
    assert to_django_password(stored) == UNUSABLE_PASSWORD


@pytest.mark.parametrize("label", REFERENCE_MAKERS)
def test_mangled_hashes_are_unrecognised(label: str) -> None:
    stored = reference_hashes()[label].stored
    for bad in mangled(stored):
        if label.startswith(("argon2", "django-argon2")) and bad == stored[:-3]:
            # An argon2 digest has no fixed length: a shortened one is still well-formed
            # (it then simply never verifies, see test_hashers).
            assert classify(bad) in {"argon2", "django", UNRECOGNISED}
            continue
        assert classify(bad) == UNRECOGNISED, repr(bad)
        assert to_django_password(bad) == UNUSABLE_PASSWORD


@pytest.mark.parametrize("value", [b"$2b$12$" + _B53.encode(), 12, 1.5, ["x"], object()])
def test_non_text_is_unrecognised_not_an_error(value: object) -> None:
    assert classify(value) == UNRECOGNISED  # type: ignore[arg-type]
    assert to_django_password(value) == UNUSABLE_PASSWORD  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------------------

_any_format = st.sampled_from(HASH_FORMATS)


def _well_formed(fmt: HashFormat) -> st.SearchStrategy[str]:
    return st.from_regex(fmt.pattern)


_well_formed_hash = st.one_of([_well_formed(fmt) for fmt in HASH_FORMATS])


@st.composite
def _near_miss(draw: st.DrawFn) -> str:
    """A well-formed hash with one character inserted, deleted or replaced."""
    base = draw(_well_formed_hash)
    index = draw(st.integers(0, len(base)))
    char = draw(st.sampled_from("$.:=,/+ \n\taA0z9-_!é"))
    edit = draw(st.sampled_from(["insert", "delete", "replace"]))
    if edit == "insert":
        return base[:index] + char + base[index:]
    if edit == "delete":
        return base[:index] + base[index + 1 :]
    return base[:index] + char + base[index + 1 :]


_texts = st.one_of(st.text(), _well_formed_hash, _near_miss())


@given(st.one_of(st.none(), st.text(), st.binary(), _well_formed_hash, _near_miss()))
def test_classify_never_raises(stored: str | None) -> None:
    assert classify(stored) in LABELS
    assert isinstance(to_django_password(stored), str)


@given(_texts)
def test_classify_agrees_with_the_patterns(stored: str) -> None:
    """A label is given only when that format's pattern matches (and no earlier one does)."""
    label = classify(stored)
    matching = [fmt.name for fmt in HASH_FORMATS if re.search(fmt.pattern, stored)]
    if re.search(EMPTY_PATTERN, stored):
        assert label == EMPTY and matching == []
    elif label == UNRECOGNISED:
        assert matching == []
    else:
        assert matching == [label]  # patterns are disjoint, so the first is the only one


@given(_texts)
def test_sql_branches_decide_exactly_as_the_pattern(stored: str) -> None:
    """The database runs a branch's regex only where its start fits: same answer."""
    for fmt in HASH_FORMATS:
        by_branches = any(branch.matches(stored) for branch in fmt.sql_branches())
        assert by_branches == fmt.matches(stored), fmt.name


@given(st.data())
def test_strings_of_a_branch_start_with_its_start(data: st.DataObject) -> None:
    fmt = data.draw(_any_format)
    branch = data.draw(st.sampled_from(fmt.sql_branches()))
    stored = data.draw(st.from_regex(fmt.pattern))
    assert any(b.matches(stored) for b in fmt.sql_branches())
    assert data.draw(st.from_regex(branch.pattern)).startswith(branch.start)


@given(st.data())
def test_well_formed_strings_get_their_own_format(data: st.DataObject) -> None:
    fmt = data.draw(_any_format)
    stored = data.draw(_well_formed(fmt))
    assert classify(stored) == fmt.name
    assert to_django_password(stored) == fmt.django_prefix + stored


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(_texts)
def test_django_password_is_unusable_or_claimed_by_a_registered_hasher(stored: str) -> None:
    from django.contrib.auth.hashers import get_hashers, identify_hasher

    password = to_django_password(stored)
    if password == UNUSABLE_PASSWORD:
        return
    registered = {hasher.algorithm for hasher in get_hashers()}
    assert identify_hasher(password).algorithm in registered


def test_project_settings_register_a_hasher_for_every_prefix() -> None:
    """authcore.settings (not only the test settings) must claim every legacy prefix."""
    from django.utils.module_loading import import_string

    from authcore.settings import PASSWORD_HASHERS

    registered = {import_string(path).algorithm for path in PASSWORD_HASHERS}
    assert PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    for fmt in HASH_FORMATS:
        if fmt.django_prefix:
            assert fmt.django_prefix[:-1] in registered
    # Django's own encodings that the "django" format lets through unchanged.
    assert {"pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt"} <= (
        registered
    )


# --- the database reads the patterns the same way ---------------------------------------------


def _database_matches(values: list[str], patterns: list[str]) -> list[list[bool]]:
    """``value <regex operator> pattern`` evaluated by the test database, for every pair."""
    from django.db import connection

    # Django's own `__regex` operator for this vendor: "~ %s" (PostgreSQL, POSIX ARE) or
    # "REGEXP %s" (SQLite, Python's re.search). (connection.ops.regex_lookup() exists only
    # for MySQL and Oracle.)
    operator = connection.operators["regex"]
    columns = ", ".join(f"%s {operator}" for _ in patterns)
    rows = []
    with connection.cursor() as cursor:
        for value in values:
            cursor.execute(
                f"SELECT {columns}", [p for pattern in patterns for p in (value, pattern)]
            )
            rows.append([bool(result) for result in cursor.fetchone()])
    return rows


def _check_database_agrees(values: list[str]) -> None:
    patterns = [fmt.pattern for fmt in HASH_FORMATS] + [EMPTY_PATTERN]
    database = _database_matches(values, patterns)
    for value, in_database in zip(values, database, strict=True):
        in_python = [re.search(pattern, value) is not None for pattern in patterns]
        assert in_database == in_python, repr(value)


@pytest.fixture
def regex_vendor() -> str:
    from django.db import connection

    if connection.vendor not in ("postgresql", "sqlite"):
        pytest.skip(f"no regex agreement test for {connection.vendor}")
    expected = {"postgresql": "~ %s", "sqlite": "REGEXP %s"}[connection.vendor]
    assert connection.operators["regex"] == expected
    return connection.vendor


@pytest.mark.django_db
def test_database_agrees_on_real_and_broken_hashes(regex_vendor: str) -> None:
    positives = [ref.stored for ref in reference_hashes().values()]
    blanks = ["", " ", "\t\n", " \t\n\r\f\v ", "\u00a0", "\u3000 "]
    _check_database_agrees(positives + blanks + [g for g in negative_samples() if "\x00" not in g])
    # and the positives are positives in the database too
    fmt_patterns = [fmt.pattern for fmt in HASH_FORMATS]
    for ref, row in zip(
        reference_hashes().values(), _database_matches(positives, fmt_patterns), strict=True
    ):
        assert [fmt.name for fmt, hit in zip(HASH_FORMATS, row, strict=True) if hit] == [ref.format]


# PostgreSQL text cannot hold NUL, and UTF-8 cannot hold lone surrogates.
_db_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
_db_texts = st.one_of(
    _db_text,
    _well_formed_hash,
    _near_miss().filter(lambda s: "\x00" not in s),
)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(_db_texts, min_size=1, max_size=5))
def test_database_agrees_on_generated_strings(regex_vendor: str, values: list[str]) -> None:
    _check_database_agrees(values)
