"""The rules of authcore/lib/access_edits.py: what takes access away, what gives it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authcore.lib.access_edits import NEW_REFUSED, RULES, widenings

T = datetime(2030, 1, 1, tzinfo=UTC)
KEY = "accounts.ApiKey"


@pytest.mark.parametrize(
    ("field", "before", "after"),
    [
        ("is_active", False, True),
        ("revoked_at", T, None),
        ("revoked_at", T, T + timedelta(seconds=1)),
        ("expires_at", T, None),
        ("expires_at", T, T + timedelta(days=1)),
        ("held", True, False),
        ("user", 1, 2),
        ("digest", "a" * 64, "b" * 64),
        ("scopes", "read", "read,write"),
        ("scopes", "read", None),
        ("scopes", "read", " , "),
        ("scopes", None, "read"),
        ("scopes", "read", "write"),
    ],
)
def test_these_edits_widen(field, before, after):
    problems = widenings(KEY, {field: before}, {field: after})

    assert len(problems) == 1 and problems[0].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("field", "before", "after"),
    [
        ("is_active", True, False),
        ("is_active", False, False),
        ("revoked_at", None, T),
        ("revoked_at", T, T - timedelta(days=1)),
        ("expires_at", None, T),
        ("expires_at", T, T - timedelta(days=1)),
        ("expires_at", None, None),
        ("held", False, True),
        ("held", True, True),
        ("scopes", "read,write", "read"),
        ("scopes", "read, write", "write,read"),
        ("scopes", None, ""),
        ("name", "a", "b"),
    ],
)
def test_these_edits_do_not(field, before, after):
    assert widenings(KEY, {field: before}, {field: after}) == []


def test_a_new_credential_is_refused_and_other_models_are_free():
    assert widenings(KEY, None, {"is_active": True}) == [NEW_REFUSED]
    assert widenings("accounts.LoginSession", None, {}) == [NEW_REFUSED]
    assert widenings("accounts.Profile", None, {"bio": "x"}) == []
    assert widenings("accounts.Profile", {"bio": "a"}, {"bio": "b"}) == []


def test_sessions_follow_the_same_rules():
    session = "accounts.LoginSession"
    assert widenings(session, {"revoked_at": T}, {"revoked_at": None})
    assert widenings(session, {"held": True}, {"held": False})
    assert widenings(session, {"expires_at": T}, {"expires_at": T + timedelta(hours=1)})
    assert not widenings(session, {"revoked_at": None}, {"revoked_at": T})
    assert set(RULES) == {KEY, session, "natscreds.NatsAuthSession"}
