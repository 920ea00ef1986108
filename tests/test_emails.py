"""The email rules, in Python and in the database, agree."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from authcore.lib import emails
from legacy.engine.sql import Dialect, Params

CASES = [
    ("ann@example.com", "ann@example.com", None),
    ("  Ann@Example.COM\t\n", "ann@example.com", None),
    ("", "", emails.EMPTY),
    ("   ", "", emails.EMPTY),
    (None, "", emails.EMPTY),
    ("ann", "ann", emails.INVALID),
    ("ann@", "ann@", emails.INVALID),
    ("@example.com", "@example.com", emails.INVALID),
    ("ann@example", "ann@example", emails.INVALID),
    ("ann smith@example.com", "ann smith@example.com", emails.INVALID),
    ("ann@@example.com", "ann@@example.com", emails.INVALID),
    ("ann\x01@example.com", "ann\x01@example.com", emails.INVALID),
    ("a" * 243 + "@example.com", "a" * 243 + "@example.com", emails.TOO_LONG),
    ("o'brien+tag@sub.example.co.uk", "o'brien+tag@sub.example.co.uk", None),
    ("ann\u200b@example.com", "ann\u200b@example.com", emails.INVALID),
    ("ann@exam\ufeffple.com", "ann@exam\ufeffple.com", emails.INVALID),
    ("ann@example.com\u202e", "ann@example.com\u202e", emails.INVALID),
    ("josé@exämple.com", "josé@exämple.com", None),
    ("ÄNN@EXAMPLE.COM", "änn@example.com", None),
    ("straße@example.com", "straße@example.com", None),
    # Look-alikes whose case does not map back would fold into another person.
    ("\u212aen@example.com", "ken@example.com", emails.LOOKALIKE),  # Kelvin sign
    ("adm\u0131n@example.com", "adm\u0131n@example.com", emails.LOOKALIKE),  # dotless i
    ("\u03c3\u03bf\u03c2@example.com", "\u03c3\u03bf\u03c2@example.com", emails.LOOKALIKE),
]


@pytest.mark.parametrize("raw, key, problem", CASES)
def test_python_rules(raw, key, problem):
    assert emails.email_key(raw) == key
    assert emails.email_problem(raw) == problem


@pytest.mark.django_db
@pytest.mark.parametrize("raw, key, problem", CASES)
def test_database_rules_agree(raw, key, problem):
    if connection.vendor == "sqlite" and not (raw or "").isascii():
        pytest.skip("SQLite's LOWER() and UPPER() fold ASCII only (documented)")
    d, params = Dialect(connection), Params()
    value = params.add(raw)
    sql = f"SELECT {d.email_key(value, params)}, {d.email_problem(value, params)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params.values)
        db_key, db_problem = cursor.fetchone()
    assert (db_key or "", db_problem) == (key, problem)


@given(st.text())
def test_rules_never_raise(raw):
    key = emails.email_key(raw)
    assert key == key.strip(emails.TRIMMED_CHARACTERS)
    assert emails.email_problem(raw) in (None, emails.EMPTY, emails.TOO_LONG, emails.INVALID)


@pytest.mark.postgres
@pytest.mark.django_db
def test_python_and_postgresql_agree_on_generated_addresses():
    """Property: for any text, the Python rules and the SQL rules give the same key and
    verdict (checked in one query over a batch of generated addresses)."""
    from hypothesis import HealthCheck, settings
    from hypothesis import given as given_

    text = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
    addresses = st.one_of(
        text,
        st.builds(lambda a, b, c: f"{a}@{b}.{c}", text, text, text),
        st.builds(lambda a: f"  {a.upper()}@Example.COM\t", text),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given_(st.lists(addresses, min_size=1, max_size=30))
    def check(batch):
        d, params = Dialect(connection), Params()
        rows = " UNION ALL ".join(
            f"SELECT {i} AS i, {params.add(raw)}::text AS raw" for i, raw in enumerate(batch)
        )
        sql = (
            f"SELECT t.i, {d.email_key('t.raw', params)}, {d.email_problem('t.raw', params)}"
            f" FROM ({rows}) t ORDER BY t.i"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params.values)
            result = cursor.fetchall()
        for (_, key, problem), raw in zip(result, batch, strict=True):
            assert (key, problem) == (emails.email_key(raw), emails.email_problem(raw)), raw

    check()
