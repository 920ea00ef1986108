"""The two big admin lists stay cheap at any size: what one page view asks of the database.

bench/ times them (goal: a page of the users and of the legacy users changelist under
300 ms at 1,000,000 rows). These tests pin what makes that possible, whatever the number of
rows: no filter reads a whole table for its choices (``SELECT DISTINCT``), the rows are
counted once (not a second time for "N results (M total)"), and not at all on an
unfiltered page of a table past ``ADMIN_COUNT_ESTIMATE_ABOVE`` rows (the planner's
estimate, "about N"), the users' default order is one an index gives without sorting, and
the number of queries does not grow with the rows on the page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.admin import ModelAdmin, site
from django.contrib.auth.models import Group
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.admin import UserAdmin
from accounts.models import ApiKey, RoleGroup, User, UserOrigin
from authcore.lib.admin_lists import estimated_rows
from legacy.models import AuthUser

pytestmark = pytest.mark.django_db


def url(model: type[models.Model], view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def page(client: Any, model: type[models.Model], **params: str) -> tuple[str, list[str]]:
    """One changelist page: its HTML and every SQL statement it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(model, "changelist"), params)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in captured.captured_queries]


def assert_no_whole_table_reads(statements: list[str], table: str) -> None:
    """No DISTINCT over the table, and one COUNT of it (the page's own)."""
    quoted = connection.ops.quote_name(table)
    distinct = [sql for sql in statements if "DISTINCT" in sql.upper() and quoted in sql]
    counts = [sql for sql in statements if sql.startswith("SELECT COUNT(") and quoted in sql]
    assert distinct == []
    assert len(counts) == 1, counts


def make_users(count: int, start: int = 0) -> None:
    now = timezone.now()
    for n in range(start, start + count):
        source = ("users", "fu_users", None)[n % 3]
        user = User.objects.create_user(
            f"u{n}@example.com",
            "pw",
            legacy_source=source,
            legacy_id=str(n) if source else None,
        )
        if source:
            UserOrigin.objects.create(
                user=user, source=source, legacy_id=str(n), legacy_email=user.email, copied_at=now
            )
        ApiKey.objects.create(user=user, name="k", prefix=f"p{n}", digest=f"{n:064x}")


# ---- consolidated users -------------------------------------------------------------------


def test_users_page_counts_once_and_reads_no_column_whole(admin_client):
    make_users(6)

    html, statements = page(admin_client, User)

    assert_no_whole_table_reads(statements, User._meta.db_table)
    # The "copied from" filter still offers every value there is, and "empty" (made here).
    assert "?legacy_source=fu_users" in html
    assert "?legacy_source=users" in html
    assert "?legacy_source__isnull=True" in html
    assert "u5@example.com" in html


def test_users_page_queries_do_not_grow_with_the_rows(admin_client):
    make_users(3)
    _, few = page(admin_client, User)
    make_users(30, start=3)
    _, many = page(admin_client, User)

    assert len(many) == len(few)


def test_users_filters_still_filter(admin_client):
    make_users(6)

    copied_from_fu = page(admin_client, User, legacy_source="fu_users")[0]
    made_here = page(admin_client, User, legacy_source__isnull="True")[0]

    assert "u1@example.com" in copied_from_fu and "u0@example.com" not in copied_from_fu
    assert "u2@example.com" in made_here and "u1@example.com" not in made_here


def test_users_default_order_is_total_and_is_an_index():
    """Email then id: total (emails are unique only ignoring case), and the very columns of
    an index, so a page is the index's first entries rather than a sort of every user."""
    ordering = [User._meta.pk.name if name == "pk" else name for name in UserAdmin.ordering]

    assert ordering[-1] == User._meta.pk.name
    assert any(list(index.fields) == ordering for index in User._meta.indexes)


def test_users_page_order_is_the_index_order(admin_client):
    for email in ("c@example.com", "a@example.com", "b@example.com"):
        User.objects.create_user(email, "pw")

    html, statements = page(admin_client, User)

    table = connection.ops.quote_name(User._meta.db_table)
    assert any(f'ORDER BY {table}."email" ASC, {table}."id" ASC' in sql for sql in statements)
    shown = [html.index(f">{email}<") for email in ("a@example.com", "b@example.com")]
    assert shown == sorted(shown) and shown[-1] < html.index(">c@example.com<")


@pytest.mark.postgres
def test_users_page_is_read_from_the_index_without_sorting(admin_client):
    make_users(3)
    _, statements = page(admin_client, User)
    table = connection.ops.quote_name(User._meta.db_table)
    (listing,) = [sql for sql in statements if f'ORDER BY {table}."email" ASC' in sql]

    with connection.cursor() as cursor:
        # A tiny table is cheaper to sort: take that choice away, and see whether the
        # planner can give the page's order with no Sort at all.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {listing}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "accounts_user_email_id_idx" in plan
    assert "Sort" not in plan


# ---- very large tables: an estimate, not a count -------------------------------------------


def analyse(model: type[models.Model]) -> None:
    """Planner statistics, as autovacuum or the copy would leave them."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def counts_of(statements: list[str], model: type[models.Model]) -> list[str]:
    quoted = connection.ops.quote_name(model._meta.db_table)
    return [sql for sql in statements if sql.startswith("SELECT COUNT(") and quoted in sql]


@pytest.mark.postgres
def test_users_page_past_the_threshold_shows_the_planners_estimate(
    admin_client, settings, monkeypatch
):
    settings.ADMIN_COUNT_ESTIMATE_ABOVE = 3
    monkeypatch.setattr(site._registry[User], "list_per_page", 5)
    make_users(6)
    analyse(User)

    html, statements = page(admin_client, User)

    assert counts_of(statements, User) == []
    assert re.search(r"about 7 users", html)  # six, and the admin
    assert "u1@example.com" in html
    # "select all" across pages names no number of rows it cannot vouch for
    assert "Select all users (about 7)" in html
    assert "Select all 7" not in html


@pytest.mark.postgres
def test_a_search_or_filter_is_counted_exactly_past_the_threshold(admin_client, settings):
    settings.ADMIN_COUNT_ESTIMATE_ABOVE = 3
    make_users(6)
    analyse(User)

    searched, searched_statements = page(admin_client, User, q="u1@")
    filtered, filtered_statements = page(admin_client, User, legacy_source="users")

    assert len(counts_of(searched_statements, User)) == 1
    assert len(counts_of(filtered_statements, User)) == 1
    assert "about" not in searched and re.search(r"\b1 user\b", searched)
    assert "about" not in filtered and re.search(r"\b2 users\b", filtered)


def test_below_the_threshold_or_on_sqlite_the_page_counts_exactly(admin_client):
    make_users(6)
    analyse(User)

    html, statements = page(admin_client, User)

    assert len(counts_of(statements, User)) == 1
    assert "about" not in html and re.search(r"\b7 users\b", html)


def test_only_an_unfiltered_postgresql_queryset_has_an_estimate():
    make_users(2)
    analyse(User)

    assert estimated_rows(User.objects.filter(email__startswith="u")) is None
    assert estimated_rows(User.objects.distinct()) is None
    assert estimated_rows(User.objects.none()) is None
    whole = estimated_rows(User.objects.order_by("email"))
    assert whole == (2 if connection.vendor == "postgresql" else None)


@pytest.mark.postgres
def test_legacy_users_page_past_the_threshold_shows_the_planners_estimate(
    admin_client, legacy, settings
):
    settings.ADMIN_COUNT_ESTIMATE_ABOVE = 3
    for n in range(5):
        legacy.user(f"u{n}@example.com", role="member")
    analyse(AuthUser)

    html, statements = page(admin_client, AuthUser)

    assert counts_of(statements, AuthUser) == []
    assert re.search(r"about 5 ", html)
    assert "u4@example.com" in html


def test_the_action_checkbox_is_djangos_own_html():
    user = User(pk=7, email='a&b<"x>@example.com')
    admin = site._registry[User]

    assert admin.action_checkbox(user) == ModelAdmin.action_checkbox(admin, user)


# ---- legacy users -------------------------------------------------------------------------


def role_group(name: str) -> None:
    RoleGroup.objects.create(group=Group.objects.create(name=name), created_by_copy=True)


def test_legacy_users_page_counts_once_and_reads_no_column_whole(admin_client, legacy):
    role_group("admin")
    for n in range(5):
        legacy.user(f"u{n}@example.com", role="member")

    html, statements = page(admin_client, AuthUser)

    assert_no_whole_table_reads(statements, AuthUser._meta.db_table)
    assert "u4@example.com" in html


def test_legacy_users_page_queries_do_not_grow_with_the_rows(admin_client, legacy):
    for n in range(3):
        legacy.user(f"u{n}@example.com", role="member")
    _, few = page(admin_client, AuthUser)
    for n in range(3, 30):
        legacy.user(f"u{n}@example.com", role="member")
    _, many = page(admin_client, AuthUser)

    assert len(many) == len(few)


def test_legacy_role_filter_offers_the_role_groups(admin_client, legacy):
    """Roles as the copy reads them (trimmed, case-folded: one group each), plus "other"
    for a role no group stands for; the raw value stays reachable as ?role=."""
    role_group("admin")
    role_group("member")
    legacy.user("ann@example.com", role=" Admin")
    legacy.user("bob@example.com", role="admin")
    legacy.user("cy@example.com", role="member")
    legacy.user("dee@example.com", role="OWNER\t")
    legacy.user("eve@example.com", role="\u00a0admin")  # a no-break space, as the copy

    html = page(admin_client, AuthUser)[0]
    admins = page(admin_client, AuthUser, role_group="admin")[0]
    others = page(admin_client, AuthUser, role_group="other")[0]
    raw = page(admin_client, AuthUser, role="admin")[0]
    facets = page(admin_client, AuthUser, role_group="admin", _facets="True")[0]

    assert "?role_group=admin" in html and "?role_group=member" in html
    assert "?role_group=other" in html
    assert {"ann", "bob", "eve"} <= set(re.findall(r"(\w+)@example\.com", admins))
    assert "cy@example.com" not in admins and "dee@example.com" not in admins
    assert "dee@example.com" in others
    assert not {"ann", "bob", "cy"} & set(re.findall(r"(\w+)@example\.com", others))
    assert "bob@example.com" in raw and "ann@example.com" not in raw
    assert "admin (3)" in facets


def test_legacy_role_filter_without_groups_lists_everyone_as_other(admin_client, legacy):
    legacy.user("ann@example.com", role="admin")

    others = page(admin_client, AuthUser, role_group="other")[0]

    assert "ann@example.com" in others


def test_legacy_users_table_without_a_role_column(admin_client):
    table = connection.ops.quote_name(AuthUser._meta.db_table)
    stamp = "timestamptz" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TABLE {table} (id integer PRIMARY KEY, email varchar(255) NOT NULL,"
            f" is_active boolean NOT NULL, created_at {stamp} NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {table} (id, email, is_active, created_at) VALUES (%s, %s, %s, %s)",
            [1, "ann@example.com", True, timezone.now()],
        )

    html = page(admin_client, AuthUser)[0]

    assert "ann@example.com" in html
    assert "role_group" not in html
