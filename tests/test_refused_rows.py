"""Rows the database refuses, whatever no check foresaw: rejected by name, never a crash."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DataError, connection

from legacy.engine import copy_legacy, owned, verify_legacy
from legacy.models import RowIssue
from tests.conftest import sha256_hex
from tests.test_credentials_after_move import works


def keys_table_allowing_null_names(legacy) -> None:
    """Drift: the key table lost its NOT NULL on name (authcore's key needs one)."""
    table = legacy.table("user_api_keys")
    if connection.vendor == "postgresql":
        legacy.execute(f'ALTER TABLE "{table}" ALTER COLUMN name DROP NOT NULL')
        return
    legacy.execute(f'DROP TABLE "{table}"')
    legacy.execute(
        f'CREATE TABLE "{table}" (id integer PRIMARY KEY, user_id integer NOT NULL,'
        " name varchar(100), key_prefix varchar(12) NOT NULL,"
        " key_hash char(64) NOT NULL UNIQUE, scopes text, is_active boolean NOT NULL,"
        " created_at datetime NOT NULL, last_used_at datetime, expires_at datetime)"
    )


@pytest.mark.parametrize("unit_rows", [2, 1000])
def test_a_refused_row_is_rejected_in_the_databases_words_and_the_rest_copied(
    legacy, settings, unit_rows
):
    settings.LEGACY_COPY_CHUNK_ROWS = unit_rows
    keys_table_allowing_null_names(legacy)
    ann = legacy.user("ann@example.com", "pw")
    for n in range(3):
        legacy.api_key(ann, f"token-{n}", name=f"key {n}")
    nameless = legacy.api_key(ann, "nameless", name=None)
    for n in range(3, 6):
        legacy.api_key(ann, f"token-{n}", name=f"key {n}")

    report = copy_legacy(apps)

    assert all(works(f"token-{n}") for n in range(6)) and not works("nameless")
    issue = RowIssue.objects.get(reason=owned.REFUSED_BY_DATABASE)
    assert (issue.source, issue.legacy_id) == ("user_api_keys", str(nameless))
    assert issue.kind == "rejected"
    assert "null" in issue.detail.lower() and "name" in issue.detail
    assert sha256_hex("nameless") not in issue.detail  # the row's values are not repeated
    result = report.tables["user_api_keys"]
    assert (result.copied, result.rejected) == (6, 1)
    assert verify_legacy(apps).verification.ok  # accounted for: rejected, with its reason

    again = copy_legacy(apps).tables["user_api_keys"]  # tried again: the cause may be fixed
    assert (again.copied, again.rejected) == (0, 1)
    assert RowIssue.objects.filter(reason=owned.REFUSED_BY_DATABASE).count() == 1


def test_too_many_refused_rows_stop_the_copy_naming_the_first(legacy, monkeypatch):
    monkeypatch.setattr(owned, "REFUSED_ROWS_LIMIT", 2)
    keys_table_allowing_null_names(legacy)
    ann = legacy.user("ann@example.com", "pw")
    first, *_ = [legacy.api_key(ann, f"nameless-{n}", name=None) for n in range(3)]

    with pytest.raises(DataError, match=rf"more than 2 rows of user_api_keys .*#{first}: "):
        copy_legacy(apps)
