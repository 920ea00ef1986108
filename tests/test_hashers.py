"""The legacy password hashers, checked against hashes made by the real libraries."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import bcrypt
import pytest
from django.contrib.auth.hashers import (
    BCryptPasswordHasher,
    check_password,
    get_hasher,
    identify_hasher,
    make_password,
)
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import hashers
from accounts.hashers import (
    LegacyArgon2PasswordHasher,
    LegacyBcryptPasswordHasher,
    PasslibPBKDF2SHA256PasswordHasher,
    TruncatingBCryptPasswordHasher,
    WerkzeugPBKDF2PasswordHasher,
    WerkzeugScryptPasswordHasher,
)
from authcore.lib.hash_formats import (
    HASH_FORMATS,
    UNUSABLE_PASSWORD,
    get_format,
    to_django_password,
)
from tests.test_hash_formats import (
    GARBAGE,
    LONG_PASSWORD,
    PASSWORD,
    REFERENCE_MAKERS,
    mangled,
    reference_hashes,
)

LEGACY_HASHERS = [
    LegacyBcryptPasswordHasher,
    LegacyArgon2PasswordHasher,
    PasslibPBKDF2SHA256PasswordHasher,
    WerkzeugPBKDF2PasswordHasher,
    WerkzeugScryptPasswordHasher,
]
HASHER_BY_FORMAT = {cls.format_name: cls for cls in LEGACY_HASHERS}
LEGACY_LABELS = [label for label, (fmt, _pw, _make) in REFERENCE_MAKERS.items() if fmt != "django"]

# The project's order (PBKDF2 first), so that an upgraded hash is pbkdf2_sha256.
PROJECT_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "accounts.hashers.TruncatingBCryptPasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.LegacyBcryptPasswordHasher",
    "accounts.hashers.LegacyArgon2PasswordHasher",
    "accounts.hashers.PasslibPBKDF2SHA256PasswordHasher",
    "accounts.hashers.WerkzeugPBKDF2PasswordHasher",
    "accounts.hashers.WerkzeugScryptPasswordHasher",
]


def _wrong(password: str) -> str:
    """A different password: its first character changed, so within bcrypt's first 72 bytes."""
    return ("y" if password[0] != "y" else "z") + password[1:]


def _hasher_for(label: str) -> hashers._LegacyPasswordHasher:
    return HASHER_BY_FORMAT[reference_hashes()[label].format]()


# --- the table and the hashers agree ----------------------------------------------------------


@pytest.mark.parametrize("hasher_class", LEGACY_HASHERS, ids=lambda c: c.__name__)
def test_hasher_algorithm_is_the_format_prefix(hasher_class: type) -> None:
    fmt = get_format(hasher_class.format_name)
    assert fmt.django_prefix == hasher_class.algorithm + "$"
    assert get_hasher(hasher_class.algorithm).__class__ is hasher_class  # registered


def test_every_legacy_format_has_a_hasher() -> None:
    legacy = {fmt.name for fmt in HASH_FORMATS if fmt.django_prefix}
    assert legacy == set(HASHER_BY_FORMAT)


def test_hashers_module_does_not_import_passlib_or_werkzeug() -> None:
    tree = ast.parse(Path(hashers.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"passlib", "werkzeug"}


# --- right and wrong passwords ----------------------------------------------------------------


@pytest.mark.parametrize("label", LEGACY_LABELS)
def test_right_password_verifies(label: str) -> None:
    ref = reference_hashes()[label]
    assert _hasher_for(label).verify(ref.password, to_django_password(ref.stored)) is True


@pytest.mark.parametrize("label", LEGACY_LABELS)
def test_wrong_password_does_not_verify(label: str) -> None:
    ref = reference_hashes()[label]
    hasher = _hasher_for(label)
    encoded = to_django_password(ref.stored)
    wrongs = [_wrong(ref.password), "", ref.password.upper()]
    if ref.format != "bcrypt" or len(ref.password.encode()) < 72:
        wrongs.append(ref.password + " ")  # past byte 72 bcrypt never looked (see below)
    for wrong in wrongs:
        assert hasher.verify(wrong, encoded) is False, wrong


@pytest.mark.parametrize("label", [label for label in REFERENCE_MAKERS if "werkzeug" in label])
def test_werkzeug_reimplementation_matches_werkzeug(label: str) -> None:
    from werkzeug.security import check_password_hash

    ref = reference_hashes()[label]
    hasher = _hasher_for(label)
    encoded = to_django_password(ref.stored)
    for password in (ref.password, _wrong(ref.password), ""):
        assert hasher.verify(password, encoded) is check_password_hash(ref.stored, password)


@pytest.mark.parametrize(
    "label", [label for label in REFERENCE_MAKERS if "passlib-pbkdf2" in label]
)
def test_passlib_reimplementation_matches_passlib(label: str) -> None:
    from passlib.hash import pbkdf2_sha256

    ref = reference_hashes()[label]
    hasher = _hasher_for(label)
    encoded = to_django_password(ref.stored)
    for password in (ref.password, _wrong(ref.password), ""):
        assert hasher.verify(password, encoded) is pbkdf2_sha256.verify(password, ref.stored)


def test_werkzeug_default_pbkdf2() -> None:
    """werkzeug 3.1's default: pbkdf2:sha256 with 1,000,000 iterations (slow on purpose)."""
    from werkzeug.security import generate_password_hash

    stored = generate_password_hash(PASSWORD, method="pbkdf2")
    encoded = to_django_password(stored)
    assert encoded.startswith("werkzeug_pbkdf2$pbkdf2:sha256:1000000$")
    assert WerkzeugPBKDF2PasswordHasher().verify(PASSWORD, encoded)
    assert not WerkzeugPBKDF2PasswordHasher().verify(_wrong(PASSWORD), encoded)


# --- bcrypt: 72 bytes, $2y$ -------------------------------------------------------------------


def test_bcrypt_long_password_logs_in() -> None:
    """The old service hashed only the first 72 bytes; the whole long password must still work."""
    assert len(LONG_PASSWORD.encode()) > 72
    stored = reference_hashes()["bcrypt-long"].stored
    encoded = to_django_password(stored)
    hasher = LegacyBcryptPasswordHasher()
    assert hasher.verify(LONG_PASSWORD, encoded)
    # What bcrypt < 5 did: anything after byte 72 never counted ...
    assert hasher.verify(LONG_PASSWORD[:-4] + "TAIL", encoded)
    # ... but a difference inside the first 72 bytes does.
    assert not hasher.verify(_wrong(LONG_PASSWORD), encoded)
    assert not hasher.verify(LONG_PASSWORD[:60], encoded)
    # bcrypt >= 5 itself refuses the long password: the hasher must not pass it on.
    with pytest.raises(ValueError):
        bcrypt.checkpw(LONG_PASSWORD.encode(), stored.encode())


def test_bcrypt_cut_inside_a_multibyte_character() -> None:
    password = "a" + "é" * 40  # 81 bytes: byte 72 is the first half of an "é"
    stored = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode()
    assert LegacyBcryptPasswordHasher().verify(password, "legacy_bcrypt$" + stored)


def test_bcrypt_2y_is_checked_like_2b() -> None:
    stored_2b = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    stored_2y = "$2y$" + stored_2b[4:]
    hasher = LegacyBcryptPasswordHasher()
    assert hasher.verify(PASSWORD, to_django_password(stored_2y))
    assert not hasher.verify(_wrong(PASSWORD), to_django_password(stored_2y))


def test_django_bcrypt_hasher_needs_the_truncating_replacement() -> None:
    """``bcrypt$`` rows from an earlier Django tool, written with bcrypt < 5 (truncating)."""
    salt = bcrypt.gensalt(4)
    encoded = "bcrypt$" + bcrypt.hashpw(LONG_PASSWORD.encode()[:72], salt).decode()
    if int(bcrypt.__version__.split(".")[0]) >= 5:
        with pytest.raises(ValueError, match="72 bytes"):
            BCryptPasswordHasher().verify(LONG_PASSWORD, encoded)  # Django's, as shipped
    hasher = TruncatingBCryptPasswordHasher()
    assert hasher.algorithm == "bcrypt"
    assert hasher.verify(LONG_PASSWORD, encoded)
    assert not hasher.verify(_wrong(LONG_PASSWORD), encoded)
    # Same output as Django + bcrypt < 5 gave, and short passwords unchanged.
    assert hasher.encode(LONG_PASSWORD, salt) == encoded
    assert hasher.encode(PASSWORD, salt) == BCryptPasswordHasher().encode(PASSWORD, salt)
    short = make_password(PASSWORD, hasher="bcrypt")
    assert hasher.verify(PASSWORD, short)
    for bad in (
        "bcrypt$",
        "bcrypt$$2b$12$short",
        "bcrypt",
        "argon2$x",
        "bcrypt$$2b$04$" + "!" * 53,
    ):
        assert hasher.verify(PASSWORD, bad) is False


# --- malformed hashes: False, never an exception ---------------------------------------------


def _malformed_for(hasher: hashers._LegacyPasswordHasher) -> list[object]:
    prefix = hasher.algorithm + "$"
    candidates: list[object] = [
        "",
        prefix,
        prefix + " ",
        hasher.algorithm,
        prefix.upper(),
        UNUSABLE_PASSWORD,
        "!" + prefix,
        None,
        12,
        b"legacy_bcrypt$",
    ]
    candidates += [prefix + garbage for garbage in GARBAGE]
    for label in LEGACY_LABELS:
        stored = reference_hashes()[label].stored
        candidates += [prefix + bad for bad in mangled(stored)]
        candidates.append(stored)  # not prefixed
    return candidates


@pytest.mark.parametrize("hasher_class", LEGACY_HASHERS, ids=lambda c: c.__name__)
def test_malformed_hashes_are_false_not_errors(hasher_class: type) -> None:
    hasher = hasher_class()
    for encoded in _malformed_for(hasher):
        for password in (PASSWORD, "", LONG_PASSWORD):
            assert hasher.verify(password, encoded) is False, encoded  # type: ignore[arg-type]
        summary = hasher.safe_summary(encoded)  # type: ignore[arg-type]
        assert summary  # the admin shows something, never a server error


@pytest.mark.parametrize("label", LEGACY_LABELS)
def test_hashes_of_other_formats_are_refused(label: str) -> None:
    """A hasher only verifies its own format, even when handed another legacy hash."""
    ref = reference_hashes()[label]
    for hasher_class in LEGACY_HASHERS:
        if hasher_class.format_name != ref.format:
            hasher = hasher_class()
            assert hasher.verify(ref.password, hasher.algorithm + "$" + ref.stored) is False


@pytest.mark.parametrize("label", LEGACY_LABELS)
def test_damaged_digest_does_not_verify(label: str) -> None:
    """A changed or shortened digest (argon2's may still look well-formed) is never accepted."""
    ref = reference_hashes()[label]
    hasher = _hasher_for(label)
    # A character well inside the digest (a last character may carry unused bits).
    index = len(ref.stored) - 10
    alphabet = "01" if ref.format.startswith("werkzeug") else "AB"
    char = alphabet[0] if ref.stored[index] != alphabet[0] else alphabet[1]
    replaced = ref.stored[:index] + char + ref.stored[index + 1 :]
    for damaged in (replaced, ref.stored[:-4]):
        assert hasher.verify(ref.password, hasher.algorithm + "$" + damaged) is False


@pytest.mark.parametrize("hasher_class", LEGACY_HASHERS, ids=lambda c: c.__name__)
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(password=st.text(), tail=st.text())
def test_verify_never_raises_on_random_input(hasher_class: type, password: str, tail: str) -> None:
    hasher = hasher_class()
    assert hasher.verify(password, hasher.algorithm + "$" + tail) in (True, False)
    assert hasher.verify(password, tail) is False
    assert isinstance(hasher.safe_summary(hasher.algorithm + "$" + tail), dict)


@st.composite
def _damaged_reference(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """A real (cheap) hash, cut at any point or with one character replaced near the end."""
    label = draw(st.sampled_from([label for label in LEGACY_LABELS if "default" not in label]))
    ref = reference_hashes()[label]
    stored = ref.stored
    if draw(st.booleans()):
        stored = stored[: draw(st.integers(0, len(stored) - 1))]
    else:
        # Only in the digest/salt end, so that no work factor is inflated.
        index = draw(st.integers(len(stored) - 20, len(stored) - 1))
        char = draw(st.characters(codec="utf-8", exclude_characters=stored[index]))
        stored = stored[:index] + char + stored[index + 1 :]
    return ref.format, ref.password, ref.stored, stored


def _same_passlib_digest(original: str, damaged: str) -> bool:
    """passlib compares decoded bytes: a last character differing only in the 2 unused bits of
    the 43-character digest decodes to the same digest, and passlib accepts it too."""
    return hashers._ab64_decode(original.rsplit("$", 1)[1]) == hashers._ab64_decode(
        damaged.rsplit("$", 1)[1]
    )


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=150)
@given(_damaged_reference())
def test_damaged_real_hashes_never_verify_nor_raise(case: tuple[str, str, str, str]) -> None:
    fmt, password, original, stored = case
    hasher = HASHER_BY_FORMAT[fmt]()
    encoded = to_django_password(stored)
    if encoded == UNUSABLE_PASSWORD:
        encoded = hasher.algorithm + "$" + stored  # as if the copy had not checked it
    if hasher.verify(password, encoded):
        assert fmt == "passlib_pbkdf2_sha256" and _same_passlib_digest(original, stored)
        from passlib.hash import pbkdf2_sha256

        assert pbkdf2_sha256.verify(password, stored)  # the real passlib agrees


# --- the Django side: encode, decode, summary, upgrade ---------------------------------------


@pytest.mark.parametrize("label", LEGACY_LABELS)
def test_decode_and_safe_summary(label: str) -> None:
    ref = reference_hashes()[label]
    hasher = _hasher_for(label)
    encoded = to_django_password(ref.stored)
    decoded = hasher.decode(encoded)
    assert decoded["algorithm"] == hasher.algorithm
    assert decoded["hash"] and decoded["hash"] in ref.stored
    assert "salt" in decoded and decoded["salt"] in ref.stored
    summary = hasher.safe_summary(encoded)
    assert summary["algorithm"] == hasher.algorithm
    shown = " ".join(str(value) for value in summary.values())
    assert decoded["hash"] not in shown  # masked
    if len(decoded["salt"]) > 6:
        assert decoded["salt"] not in shown
    with pytest.raises(ValueError):
        hasher.decode(hasher.algorithm + "$garbage")


def test_decoded_parameters() -> None:
    refs = reference_hashes()
    bcrypt_parts = LegacyBcryptPasswordHasher().decode(to_django_password(refs["bcrypt-2y"].stored))
    assert bcrypt_parts["ident"] == "2y" and bcrypt_parts["work_factor"] == 4
    argon2_parts = LegacyArgon2PasswordHasher().decode(
        to_django_password(refs["argon2i-v1.0-no-v"].stored)
    )
    assert argon2_parts["variety"] == "argon2i" and argon2_parts["version"] == 16
    assert (argon2_parts["memory_cost"], argon2_parts["time_cost"]) == (1024, 2)
    passlib_parts = PasslibPBKDF2SHA256PasswordHasher().decode(
        to_django_password(refs["passlib-pbkdf2-default"].stored)
    )
    assert passlib_parts["iterations"] == 29000
    werkzeug_parts = WerkzeugPBKDF2PasswordHasher().decode(
        to_django_password(refs["werkzeug-pbkdf2-sha512"].stored)
    )
    assert werkzeug_parts["digest"] == "sha512" and werkzeug_parts["iterations"] == 1000
    scrypt_parts = WerkzeugScryptPasswordHasher().decode(
        to_django_password(refs["werkzeug-scrypt-default"].stored)
    )
    assert (scrypt_parts["work_factor"], scrypt_parts["block_size"]) == (32768, 8)


@pytest.mark.parametrize("hasher_class", LEGACY_HASHERS, ids=lambda c: c.__name__)
def test_legacy_hashers_never_make_new_hashes(hasher_class: type) -> None:
    hasher = hasher_class()
    with pytest.raises(NotImplementedError, match="only verifies"):
        hasher.encode(PASSWORD, hasher.salt())
    with pytest.raises(NotImplementedError):
        make_password(PASSWORD, hasher=hasher.algorithm)
    assert hasher.must_update(hasher.algorithm + "$anything") is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when harden_runtime is missing
        hasher.harden_runtime(PASSWORD, hasher.algorithm + "$anything")


@pytest.mark.parametrize("label", LEGACY_LABELS)
def test_login_upgrades_only_on_the_right_password(label: str) -> None:
    ref = reference_hashes()[label]
    encoded = to_django_password(ref.stored)
    upgraded: list[str] = []
    with override_settings(PASSWORD_HASHERS=PROJECT_HASHERS):
        assert check_password(_wrong(ref.password), encoded, upgraded.append) is False
        assert check_password("", encoded, upgraded.append) is False
        assert upgraded == []
        assert check_password(ref.password, encoded, upgraded.append) is True
        assert upgraded == [ref.password]


def test_upgraded_hash_is_the_default_pbkdf2() -> None:
    """What the setter stores (User.set_password) after a legacy login: pbkdf2_sha256."""
    ref = reference_hashes()["bcrypt-long"]
    new_passwords: list[str] = []

    def setter(raw_password: str) -> None:
        new_passwords.append(make_password(raw_password))

    with override_settings(PASSWORD_HASHERS=PROJECT_HASHERS):
        assert check_password(ref.password, to_django_password(ref.stored), setter)
        [new] = new_passwords
        assert new.startswith("pbkdf2_sha256$")
        assert identify_hasher(new).algorithm == "pbkdf2_sha256"
        # the full long password, no longer truncated
        assert check_password(ref.password, new)
        assert not check_password(ref.password[:72], new)


@pytest.mark.parametrize(
    "label", [label for label in REFERENCE_MAKERS if label.startswith("django")]
)
def test_django_encodings_verify_with_djangos_hashers(label: str) -> None:
    ref = reference_hashes()[label]
    encoded = to_django_password(ref.stored)
    assert encoded == ref.stored
    with override_settings(PASSWORD_HASHERS=PROJECT_HASHERS):
        assert check_password(ref.password, encoded)
        assert not check_password(_wrong(ref.password), encoded)


@pytest.mark.parametrize("stored", [None, "", "   ", "$2b$12$short", "pbkdf2:sha256$s$00", "plain"])
def test_unusable_passwords_never_log_in(stored: str | None) -> None:
    encoded = to_django_password(stored)
    assert encoded == UNUSABLE_PASSWORD
    called: list[str] = []
    for password in (PASSWORD, "", "!"):
        assert check_password(password, encoded, called.append) is False
    assert called == []
