"""Secrets are shown by their first characters only, never whole."""

from __future__ import annotations

import hashlib

import pytest

from authcore.lib.masking import DIGEST_SHOWN, mask_digest

DIGEST = hashlib.sha256(b"the-token").hexdigest()


def test_a_digest_shows_its_first_characters():
    assert mask_digest(DIGEST) == f"{DIGEST[:DIGEST_SHOWN]}…"


def test_none_and_empty_stay_as_they_are():
    assert mask_digest(None) is None
    assert mask_digest("") == ""


@pytest.mark.parametrize("value", ["a", "ab", "abcdefgh", "not-a-digest", DIGEST, DIGEST * 2])
def test_no_value_is_ever_shown_whole(value):
    masked = mask_digest(value)

    assert masked.endswith("…")
    shown = masked[:-1]
    assert value.startswith(shown)
    assert len(shown) <= min(DIGEST_SHOWN, len(value) // 2)


def test_how_much_is_shown_can_be_chosen():
    assert mask_digest(DIGEST, shown=4) == f"{DIGEST[:4]}…"
