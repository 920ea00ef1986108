"""authcore.lib.nats_checks: real nkeys and real signed user JWTs in, problem codes out."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from authcore.lib import nats_checks as checks
from tests.test_nats_factory import LATER, Keys, b64url, compact_json, tampered, user_jwt


def codes(problems):
    return sorted(p.code for p in problems)


def check(user: Keys, account: Keys, token: str, **overrides):
    values = {
        "public_key": user.public_key,
        "jwt": token,
        "account_public_key": account.public_key,
        "account_key": account.public_key,
        "account_signing_keys": [],
        "expires_at": LATER,
    }
    values.update(overrides)
    return codes(checks.check_user_credential(**values))


@pytest.fixture
def keys():
    return Keys.user(), Keys.account()


def test_a_valid_credential_passes(keys):
    user, account = keys
    assert check(user, account, user_jwt(user.public_key, account)) == []


def test_a_credential_without_expiry_passes_when_the_row_has_none(keys):
    user, account = keys
    token = user_jwt(user.public_key, account, expires=None)
    assert check(user, account, token, expires_at=None) == []


def test_a_tampered_jwt_fails_its_signature(keys):
    user, account = keys
    token = tampered(user_jwt(user.public_key, account), name="admin", nats={"pub": {}})
    assert check(user, account, token) == ["jwt_signature_invalid"]


def test_a_jwt_of_another_account_fails_the_issuer(keys):
    user, account = keys
    other = Keys.account()
    token = user_jwt(user.public_key, other)  # validly signed, by the wrong account
    assert check(user, account, token) == ["jwt_issuer_mismatch"]


def test_a_jwt_for_another_user_fails_the_subject(keys):
    user, account = keys
    token = user_jwt(Keys.user().public_key, account)
    assert check(user, account, token) == ["jwt_subject_mismatch"]


def test_the_account_signing_key_may_issue(keys):
    user, account = keys
    signing = Keys.account()
    token = user_jwt(user.public_key, signing, issuer_account=account.public_key)
    assert check(user, account, token, account_signing_keys=[signing.public_key]) == []
    # ...but not for another account's users.
    wrong = user_jwt(user.public_key, signing, issuer_account=Keys.account().public_key)
    assert check(user, account, wrong, account_signing_keys=[signing.public_key]) == [
        "jwt_issuer_mismatch"
    ]
    # ...and an unknown signing key is not the account's.
    assert check(user, account, token) == ["jwt_issuer_mismatch"]


def test_exp_must_match_expires_at(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    assert check(user, account, token, expires_at=LATER + timedelta(days=1)) == [
        "jwt_expiry_mismatch"
    ]
    assert check(user, account, token, expires_at=None) == ["jwt_expiry_mismatch"]
    never = user_jwt(user.public_key, account, expires=None)
    assert check(user, account, never) == ["jwt_expiry_mismatch"]


def test_expires_at_as_stored_by_either_database(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    naive_utc = LATER.astimezone(UTC).replace(tzinfo=None)
    assert check(user, account, token, expires_at=naive_utc) == []
    assert check(user, account, token, expires_at=str(naive_utc)) == []
    assert check(user, account, token, expires_at=LATER.isoformat()) == []


def test_keys_of_the_wrong_kind(keys):
    user, account = keys
    token = user_jwt(account.public_key, account)  # sub is the account key itself
    problems = check(
        account, account, token, public_key=account.public_key, account_public_key=user.public_key
    )
    assert problems == ["account_key_mismatch", "account_key_wrong_kind", "user_key_wrong_kind"]


def test_a_key_with_a_broken_checksum(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    last = user.public_key[-1]
    broken = user.public_key[:-1] + ("A" if last != "A" else "B")
    assert "user_key_invalid" in check(user, account, token, public_key=broken)
    with pytest.raises(checks.InvalidNkey, match="checksum|base32|length"):
        checks.decode_public_key(broken)


@pytest.mark.parametrize(
    "value", ["", "U" * 56, "not-a-key", "UABC", None, "U" + "0" * 55, "Ü" + "A" * 55]
)
def test_strings_that_are_not_nkeys(value):
    assert checks.key_kind(value) is None


def test_decode_public_key_tells_the_kind():
    assert checks.decode_public_key(Keys.user().public_key)[0] == checks.USER
    kind, raw = checks.decode_public_key(Keys.account().public_key)
    assert (kind, len(raw)) == (checks.ACCOUNT, 32)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", f"{b64url(b'[1]')}.{b64url(b'{}')}.AAAA"],
)
def test_malformed_jwts(keys, token):
    user, account = keys
    assert check(user, account, token) == ["jwt_malformed"]


def test_an_unsupported_algorithm(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    _, claims, signature = token.split(".")
    header = b64url(compact_json({"typ": "JWT", "alg": "HS256"}))
    # The header is part of what was signed, so the signature fails as well.
    assert check(user, account, f"{header}.{claims}.{signature}") == [
        "jwt_algorithm_unsupported",
        "jwt_signature_invalid",
    ]


@pytest.mark.parametrize(
    ("header", "claims", "expected"),
    [
        ({"alg": ["ed25519-nkey"]}, {}, "jwt_algorithm_unsupported"),
        ({"alg": {"name": "ed25519"}}, {}, "jwt_algorithm_unsupported"),
        ({}, {"iss": ["an account"]}, "jwt_issuer_mismatch"),
        ({}, {"iss": {"key": 1}}, "jwt_issuer_mismatch"),
        ({}, {"exp": float("nan")}, "jwt_expiry_mismatch"),
        ({}, {"exp": float("inf")}, "jwt_expiry_mismatch"),  # how Python reads 1e400
        ({}, {"sub": [1, 2]}, "jwt_subject_mismatch"),
    ],
)
def test_a_claim_of_any_json_type_is_a_problem_not_a_crash(keys, header, claims, expected):
    """The header and claims are JSON written by someone else: a list, an object, NaN or
    an infinite number where a string or a count belongs is reported, never raised."""
    user, account = keys
    token = user_jwt(user.public_key, account)
    head, body, signature = token.split(".")
    changed = {**json.loads(base64.urlsafe_b64decode(head + "==")), **header}
    values = {**json.loads(base64.urlsafe_b64decode(body + "==")), **claims}
    forged = f"{b64url(compact_json(changed))}.{b64url(compact_json(values))}.{signature}"

    assert expected in check(user, account, forged)


def test_an_account_jwt_is_not_a_user_jwt(keys):
    user, account = keys
    token = user_jwt(user.public_key, account, nats_type="account")
    assert check(user, account, token) == ["jwt_not_user"]


def test_a_missing_or_mismatched_account_row(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    assert check(user, account, token, account_key=None, account_known=False) == ["account_missing"]
    assert check(user, account, token, account_key=Keys.account().public_key) == [
        "account_key_mismatch"
    ]


def test_a_signature_that_is_too_short_or_by_a_non_account(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    head, claims, _ = token.split(".")
    assert check(user, account, f"{head}.{claims}.{b64url(b'x')}") == ["jwt_signature_invalid"]
    by_user = user_jwt(user.public_key, user)  # iss is a user key
    assert check(user, account, by_user) == ["jwt_issuer_mismatch", "jwt_signature_invalid"]


def test_signature_valid_takes_the_standard_base64_alphabet_too(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    head, claims, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    standard = base64.b64encode(raw).decode()
    assert check(user, account, f"{head}.{claims}.{standard}") == []
    assert checks.signature_valid(account.public_key, f"{head}.{claims}".encode(), raw)
    assert not checks.signature_valid(user.public_key, f"{head}.{claims}".encode(), raw)


def test_check_account():
    account, signing = Keys.account(), Keys.account()
    assert checks.check_account(public_key=account.public_key, signing_key=None) == []
    assert checks.check_account(public_key=account.public_key, signing_key=signing.public_key) == []
    assert codes(checks.check_account(public_key=Keys.user().public_key, signing_key="nope")) == [
        "account_key_wrong_kind",
        "signing_key_invalid",
    ]


def test_expiry_matches():
    moment = datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert checks.expiry_matches(int(moment.timestamp()), moment)
    assert checks.expiry_matches(None, None) and checks.expiry_matches(0, None)
    assert not checks.expiry_matches(True, moment)
    assert not checks.expiry_matches("1893553445", moment)
    assert not checks.expiry_matches(int(moment.timestamp()) + 1, moment)


def test_codes_are_distinct_words():
    for code in checks.ALL_CODES:
        others = [other for other in checks.ALL_CODES if other != code]
        assert not any(code in other for other in others), code


def test_claims_of_decodes_without_verifying(keys):
    user, account = keys
    token = tampered(user_jwt(user.public_key, account), name="changed")
    assert checks.claims_of(token)["name"] == "changed"
    assert checks.claims_of("garbage") is None


def test_expiry_is_not_checked_where_the_table_has_no_expires_at(keys):
    user, account = keys
    token = user_jwt(user.public_key, account)
    assert check(user, account, token, expires_at=None, check_expiry=False) == []


def test_a_seed_stored_in_place_of_its_hash_is_flagged(keys):
    """Seed 002 keeps a hash of the seed, never the seed: the seed itself is a secret."""
    user, account = keys
    token = user_jwt(user.public_key, account)
    seed = user.seed.decode()
    for stored in (seed, f" {seed}\n"):
        assert check(user, account, token, seed_hash=stored) == ["seed_not_hashed"]
        flagged = checks.check_user_credential(
            public_key=user.public_key, jwt=token, account_public_key=account.public_key,
            account_key=account.public_key, expires_at=LATER, seed_hash=stored,
        )
        assert seed not in str(flagged)  # the detail never repeats it
    for stored in (user.seed_hash, "", None, "S" * 58, seed[:-1], 42):
        assert check(user, account, token, seed_hash=stored) == [], stored
