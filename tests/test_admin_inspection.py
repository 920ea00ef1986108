"""The admin answers, without SQL: what was copied, from where, what conflicted, what was
rejected, and is anything missing. Real legacy tables, a real copy."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, LoginSession, Profile, User, UserOrigin
from legacy.engine import copy_legacy, verify_legacy
from legacy.engine.nats import SUPERSEDED
from legacy.models import (
    AuthUser,
    Conflict,
    CopyRun,
    FastapiUser,
    Hold,
    NatsUserCredential,
    RowIssue,
    SharedUser,
)
from tests.conftest import bcrypt_hash, sha256_hex

# The person pages show what merged rows brought: their services are declared verified.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_source_verified")]

ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"
LATER = timezone.now() + timedelta(days=30)


def url(model: type[models.Model], view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def html_of(client, address: str, **params: Any) -> str:
    response = client.get(address, params)
    assert response.status_code == 200, address
    return response.content.decode()


@pytest.fixture
def copied(legacy):
    """Ann in all three user tables with keys, a profile, a session and a tenant; a row with
    a bad email; an orphan key; all copied by the engine, as ``migrate`` would."""
    legacy.allow_orphans("user_api_keys")
    client = legacy.insert("clients", name="Acme", slug="acme")
    passwords = {"auth": bcrypt_hash("ann-pw"), "shared": bcrypt_hash("other-pw")}
    ann = legacy.user("Ann@Example.com", password_hash=passwords["auth"], full_name="Ann")
    legacy.execute(
        f"UPDATE {connection.ops.quote_name(legacy.table('users'))} SET client_id = %s"
        " WHERE id = %s",
        [legacy._adapt(client), ann],
    )
    shared = legacy.insert(
        "user",
        email=" ann@example.com",
        hashed_password=passwords["shared"],
        first_name="Annie",
        is_superuser=True,
    )
    fastapi = legacy.insert("fu_users", email="ANN@example.com", hashed_password=ARGON2)
    bad = legacy.user("not-an-email")
    secrets = {
        "auth_key": sha256_hex("ann-token"),
        "shared_key": sha256_hex("shared-token"),
        "session": sha256_hex("session-token"),
        "orphan_key": sha256_hex("orphan-token"),
        **passwords,
        "argon2": ARGON2,
    }
    legacy.api_key(ann, "ann-token", name="ci")
    orphan = legacy.api_key(4242, "orphan-token", name="orphan")
    legacy.insert(
        "user_api_key",
        user_id=shared,
        name="deploy",
        prefix="zyxwvuts",
        key_hash=secrets["shared_key"],
    )
    legacy.insert("user_profile", user_id=shared, timezone="Europe/Zürich", preferences={"a": 1})
    legacy.insert(
        "user_session",
        user_id=shared,
        token_hash=secrets["session"],
        ip_address="2001:db8::1",
        user_agent="curl",
        expires_at=LATER,
    )
    report = copy_legacy(apps)
    user = User.objects.get(email__iexact="ann@example.com")
    return SimpleNamespace(
        legacy=legacy,
        user=user,
        ann=ann,
        shared=shared,
        fastapi=fastapi,
        bad=bad,
        orphan=orphan,
        secrets=secrets,
        report=report,
    )


def legacy_id_of(model: type[models.Model], pk: Any) -> str:
    """The key as the engine stores it: cast to text by the database."""
    return (
        model.objects.filter(pk=pk)
        .values_list(models.functions.Cast("pk", models.TextField()), flat=True)
        .get()
    )


def assert_no_secret(html: str, secrets: dict[str, str]) -> None:
    for name, secret in secrets.items():
        assert secret not in html, name
        # Not even a long piece of one: digests show 8 characters, hashes only their format.
        assert secret[-20:] not in html, name


def test_superseded_is_the_nats_copy_reason():
    from legacy.engine import nats

    assert SUPERSEDED == nats.SUPERSEDED


# ---- copy runs ----------------------------------------------------------------------------


def test_copy_runs_are_listed_newest_first(admin_client, copied):
    verification = verify_legacy(apps)
    runs = list(CopyRun.objects.filter(pk__in=[copied.report.run_id, verification.run_id]))
    runs.sort(key=lambda run: (run.started_at, run.pk))

    html = html_of(admin_client, url(CopyRun, "changelist"))

    positions = [html.index(url(CopyRun, "change", run.pk)) for run in runs]
    assert positions == sorted(positions, reverse=True)  # the verification first
    assert "verify" in html and "command" in html
    assert "passed" in html
    assert "succeeded" in html


def test_copy_run_page_renders_its_report(admin_client, copied):
    run = CopyRun.objects.get(pk=copied.report.run_id)
    users = copied.report.tables["users"]

    html = html_of(admin_client, url(CopyRun, "change", run.pk))

    assert "Per legacy table" in html
    row = re.search(r"<td><a [^>]*>users</a></td>(.*?)</tr>", html, re.S)
    assert row is not None
    numbers = [int(n) for n in re.findall(r'<td class="numeric">(\d+)</td>', row.group(1))]
    assert numbers == [
        users.rows,
        users.copied,
        users.merged,
        users.rejected,
        users.warnings,
        users.already_done,
        users.synced,
        users.held,
        users.released,
    ]
    # Every number the engine counts per table has its column, those --sync and holds add too.
    for column in ("already done", "synced", "held", "released"):
        assert f'<th class="numeric">{column}</th>' in html
    assert "Rows per table, before and after" in html
    assert "accounts_user" in html
    assert "Not a verification run" in html
    assert "The report as recorded (JSON)" in html
    assert 'name="_save"' not in html
    assert_no_secret(html, copied.secrets)


def test_verification_run_page_shows_its_problems(admin_client, copied):
    UserOrigin.objects.filter(source="fu_users").delete()  # one row no longer accounted for
    report = verify_legacy(apps)

    html = html_of(admin_client, url(CopyRun, "change", report.run_id))
    listing = html_of(admin_client, url(CopyRun, "changelist"))

    assert "FAILED" in html
    assert "fu_users: not_copied" in html
    fu_id = legacy_id_of(FastapiUser, copied.fastapi)
    assert f'href="{url(FastapiUser, "change", fu_id)}"' in html
    assert "FAILED (1 problem)" in listing


# ---- the user page ------------------------------------------------------------------------


def test_user_page_shows_everything_the_person_came_from(admin_client, copied):
    user = copied.user

    html = html_of(admin_client, url(User, "change", user.pk))

    # Origins, each linked to its read-only legacy row; the winning row says so.
    for model, pk in (
        (AuthUser, copied.ann),
        (SharedUser, copied.shared),
        (FastapiUser, copied.fastapi),
    ):
        assert f'href="{url(model, "change", legacy_id_of(model, pk))}"' in html
    assert "created this user (won)" in html
    assert html.count("merged into it") == 2
    # The conflicts between those rows (the password conflict shows no value).
    assert "conflicts between this user" in html.lower()
    assert "is_superuser" in html and "full_name" in html
    # Profile, membership, API keys (masked) and session (masked).
    assert "Europe/Zürich" in html
    assert "acme" in html
    assert f"{copied.secrets['auth_key'][:8]}…" in html
    assert f"{copied.secrets['shared_key'][:8]}…" in html
    assert f"{copied.secrets['session'][:8]}…" in html
    assert "2001:db8::1" in html
    assert_no_secret(html, copied.secrets)


def test_copied_rows_are_shown_as_copied_on_the_user_page(admin_client, copied):
    html = html_of(admin_client, url(User, "change", copied.user.pk))

    # The copied profile and membership are text, not inputs; new memberships can be added.
    assert "Europe/Zürich" in html
    assert not re.search(r'name="profile-0-(timezone|bio|DELETE)"', html)
    assert not re.search(r'name="memberships-0-(tenant|role)"', html)
    assert "memberships copied from legacy tables" in html.lower()
    assert 'name="memberships-2-TOTAL_FORMS"' in html  # the inline for new ones


def test_posted_changes_to_copied_rows_are_ignored(rf, admin_user, copied):
    from django.contrib import admin

    from accounts.admin import CopiedMembershipInline, ProfileInline
    from accounts.models import Profile

    user = copied.user
    request = rf.post("/")
    request.user = admin_user
    profile, membership = Profile.objects.get(user=user), user.memberships.get()
    for inline, obj, changed in (
        (ProfileInline, profile, {"timezone": "Mars/Olympus"}),
        (CopiedMembershipInline, membership, {"role": "owner"}),
    ):
        formset_class = inline(User, admin.site).get_formset(request, user)
        prefix = formset_class.get_default_prefix()
        data = {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "1",
            f"{prefix}-0-id": str(obj.pk),
            f"{prefix}-0-user": str(user.pk),
            f"{prefix}-0-DELETE": "on",
            **{f"{prefix}-0-{name}": value for name, value in changed.items()},
        }
        formset = formset_class(data, instance=user, prefix=prefix)
        if formset.is_valid():
            formset.save()

        assert type(obj).objects.filter(pk=obj.pk).exists()  # not deleted
        obj.refresh_from_db()
        for name, value in changed.items():
            assert getattr(obj, name) != value


def test_memberships_made_in_authcore_stay_editable_on_the_user_page(rf, admin_user, copied):
    from django.contrib import admin

    from accounts.admin import MembershipInline
    from accounts.models import Membership, Tenant

    user = copied.user
    tenant = Tenant.objects.create(name="Native", slug="native")
    membership = Membership.objects.create(user=user, tenant=tenant, role="member")
    request = rf.post("/")
    request.user = admin_user
    formset_class = MembershipInline(User, admin.site).get_formset(request, user)
    prefix = formset_class.get_default_prefix()
    data = {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-0-id": str(membership.pk),
        f"{prefix}-0-user": str(user.pk),
        f"{prefix}-0-tenant": str(tenant.pk),
        f"{prefix}-0-role": "owner",
    }
    formset = formset_class(data, instance=user, prefix=prefix)

    assert [form.instance for form in formset.forms] == [membership]  # copied ones not here
    assert formset.is_valid(), formset.errors
    formset.save()

    membership.refresh_from_db()
    assert membership.role == "owner"


# ---- a legacy row's page ------------------------------------------------------------------


def test_a_copied_legacy_row_links_to_the_user_it_created(admin_client, copied):
    html = html_of(admin_client, url(AuthUser, "change", copied.ann))

    assert "What the copy made of this row" in html
    assert "<strong>Copied</strong>" in html
    assert f'href="{url(User, "change", copied.user.pk)}"' in html
    assert 'name="_save"' not in html
    assert url(AuthUser, "delete", copied.ann) not in html


def test_a_merged_legacy_row_links_to_its_user_and_the_winning_row(admin_client, copied):
    shared_id = legacy_id_of(SharedUser, copied.shared)

    html = html_of(admin_client, url(SharedUser, "change", shared_id))

    assert "<strong>Merged</strong>" in html
    assert f'href="{url(User, "change", copied.user.pk)}"' in html
    assert f'href="{url(AuthUser, "change", str(copied.ann))}"' in html  # the winning row
    assert "is_superuser" in html  # the conflict this row lost
    assert_no_secret(html, copied.secrets)


def test_a_rejected_legacy_row_shows_why(admin_client, copied):
    html = html_of(admin_client, url(AuthUser, "change", copied.bad))

    assert "<strong>Rejected</strong>" in html
    assert "email_invalid" in html
    issue = RowIssue.objects.get(source="users", legacy_id=str(copied.bad))
    assert f'href="{url(RowIssue, "change", issue.pk)}"' in html


def test_a_rejected_owned_row_shows_why(admin_client, copied):
    from legacy.models import AuthUserApiKey

    html = html_of(admin_client, url(AuthUserApiKey, "change", copied.orphan))

    assert "<strong>Rejected</strong>" in html
    assert "owner_missing" in html


def test_a_legacy_row_nobody_accounted_for_says_so(admin_client, copied):
    UserOrigin.objects.filter(source="users", legacy_id=str(copied.ann)).delete()

    html = html_of(admin_client, url(AuthUser, "change", copied.ann))

    assert "<strong>Not accounted for</strong>" in html


def test_legacy_changelist_shows_and_filters_what_each_row_became(admin_client, copied):
    listing = html_of(admin_client, url(AuthUser, "changelist"))
    rejected = html_of(admin_client, url(AuthUser, "changelist"), copy="rejected")
    copied_rows = html_of(admin_client, url(AuthUser, "changelist"), copy="copied")

    assert f'href="{url(User, "change", copied.user.pk)}">copied</a>' in listing
    assert ">rejected</a>" in listing
    assert "not-an-email" in rejected and "Ann@Example.com" not in rejected
    assert "Ann@Example.com" in copied_rows and "not-an-email" not in copied_rows


# ---- the legacy overview ------------------------------------------------------------------


def overview(client) -> dict[str, dict[str, Any]]:
    response = client.get(reverse("admin:legacy_overview"))
    assert response.status_code == 200
    rows = {}
    for table in response.context["tables"]:
        counts = {"rows": table["rows"]}
        for cell in table["cells"] or []:
            if cell is not None:
                counts[cell["status"]] = cell["count"]
        rows[table["key"]] = counts
    return rows


def test_overview_counts_every_legacy_table(admin_client, copied):
    rows = overview(admin_client)

    assert rows["users"] == {
        "rows": 2,
        "copied": 1,
        "merged": 0,
        "rejected": 1,
        "warning": 0,
        "unaccounted": 0,
    }
    assert rows["user"] == {
        "rows": 1,
        "copied": 0,
        "merged": 1,
        "rejected": 0,
        "warning": 0,
        "unaccounted": 0,
    }
    assert rows["fu_users"]["merged"] == 1
    assert rows["user_api_keys"] == {
        "rows": 2,
        "copied": 1,
        "rejected": 1,
        "warning": 0,
        "unaccounted": 0,
    }
    for key in ("user_api_key", "user_profile", "user_session", "clients"):
        assert rows[key]["copied"] == 1, key
    assert all(counts.get("unaccounted", 0) == 0 for counts in rows.values())
    assert rows["nats_account"]["rows"] == 0


def test_overview_counts_nats_credentials_carried_onto_users(admin_client, copied):
    legacy = copied.legacy
    account = legacy.insert("nats_account", name="acme", public_key="A" * 56)
    older, newer = (
        legacy.insert(
            "nats_user_credential",
            user_id=copied.ann,
            account_id=account,
            jwt="eyJ.not.a.jwt",
            seed_hash=sha256_hex(f"seed-{n}"),
            public_key=f"U{n}" * 28,
            account_public_key="A" * 56,
            created_at=timezone.now() + timedelta(seconds=n),
        )
        for n in (1, 2)
    )
    legacy.insert("nats_auth_session", user_id=copied.ann, account_id=account)
    copy_legacy(apps)

    rows = overview(admin_client)
    older_page = html_of(admin_client, url(NatsUserCredential, "change", older))
    newer_page = html_of(admin_client, url(NatsUserCredential, "change", newer))

    credentials = rows["nats_user_credential"]
    assert (credentials["rows"], credentials["copied"], credentials["merged"]) == (2, 1, 1)
    assert credentials["unaccounted"] == 0
    assert rows["nats_account"]["copied"] == 1
    assert rows["nats_auth_session"]["copied"] == 1
    assert "<strong>Copied</strong>" in newer_page
    assert f'href="{url(User, "change", copied.user.pk)}"' in newer_page
    assert "<strong>Merged</strong>" in older_page
    assert SUPERSEDED in older_page
    for page in (older_page, newer_page):
        assert sha256_hex("seed-1") not in page and sha256_hex("seed-2") not in page


def test_overview_unaccounted_agrees_with_verify_and_links_to_the_rows(admin_client, copied):
    ApiKey.objects.filter(legacy_source="user_api_keys").delete()
    UserOrigin.objects.filter(source="fu_users").delete()
    verification = verify_legacy(apps, record=False).verification

    rows = overview(admin_client)
    page = admin_client.get(reverse("admin:legacy_overview")).content.decode()
    unaccounted_keys = html_of(
        admin_client, reverse("admin:legacy_authuserapikey_changelist"), copy="unaccounted"
    )

    for key in ("user_api_keys", "fu_users"):
        assert rows[key]["unaccounted"] == verification.problem_counts[f"{key}: not_copied"]
    assert rows["users"]["unaccounted"] == 0
    assert "?copy=unaccounted" in page
    assert "ci" in unaccounted_keys and "orphan" not in unaccounted_keys


def test_overview_counts_a_held_row_as_accounted_for_as_verify_does(admin_client, copied):
    """A profile held for review is not copied, yet accounted for: the overview and its
    "not accounted for" list follow --verify's rule, not a rule of their own."""
    profile = Profile.objects.get(legacy_source="user_profile")
    Hold.objects.create(
        user=copied.user,
        kind=Hold.Kind.PROFILE,
        source="user_profile",
        legacy_id=profile.legacy_id,
        owner_source="user",
        owner_legacy_id=legacy_id_of(SharedUser, copied.shared),
        reason="unproven_merged_row",
        held_at=timezone.now(),
    )
    profile.delete()
    verification = verify_legacy(apps, record=False).verification

    rows = overview(admin_client)
    unaccounted = admin_client.get(
        reverse("admin:legacy_shareduserprofile_changelist"), {"copy": "unaccounted"}
    )

    assert "user_profile: not_copied" not in verification.problem_counts
    assert verification.held_counts.get("user_profile") == 1
    assert rows["user_profile"]["unaccounted"] == 0
    assert unaccounted.context["cl"].result_count == 0


def test_overview_runs_a_few_queries_per_table_whatever_the_rows(admin_client, copied):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("admin:legacy_overview")).status_code == 200
        return len(captured)

    before = queries()
    for n in range(5):
        copied.legacy.user(f"more{n}@example.com")
        copied.legacy.api_key(copied.ann, f"more-token-{n}")
    copy_legacy(apps)

    assert queries() == before


def test_overview_lists_only_tables_that_exist(admin_client, copied):
    with connection.cursor() as cursor:
        for key in ("nats_auth_session", "nats_user_credential", "nats_account"):
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(copied.legacy.table(key))}")

    rows = overview(admin_client)
    html = html_of(admin_client, reverse("admin:legacy_overview"))

    assert "nats_account" not in rows
    assert "Not in this database" in html and "nats_account" in html


def test_admin_index_links_to_the_overview(admin_client):
    index = html_of(admin_client, reverse("admin:index"))
    app = html_of(admin_client, reverse("admin:app_list", args=["legacy"]))
    runs = html_of(admin_client, url(CopyRun, "changelist"))

    for html in (index, app, runs):
        assert f'href="{reverse("admin:legacy_overview")}"' in html


def test_overview_needs_staff(client, copied):
    response = client.get(reverse("admin:legacy_overview"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_overview_shows_only_the_tables_a_staff_member_may_view(client, copied):
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user("staff@example.com", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_authuser"))
    client.force_login(staff)

    assert list(overview(client)) == ["users"]


# ---- rejected rows and conflicts ----------------------------------------------------------


def test_row_issue_list_shows_rejected_rows_by_default(admin_client, copied):
    RowIssue.objects.create(
        source="user_profile",
        legacy_id="x",
        kind=RowIssue.Kind.WARNING,
        reason="preferences_not_object",
        first_seen_at=timezone.now(),
    )

    default = html_of(admin_client, url(RowIssue, "changelist"))
    warnings = html_of(admin_client, url(RowIssue, "changelist"), kind="warning")
    everything = html_of(admin_client, url(RowIssue, "changelist"), kind="all")
    by_source = html_of(admin_client, url(RowIssue, "changelist"), source="user_api_keys")
    by_reason = html_of(admin_client, url(RowIssue, "changelist"), reason="email_invalid")

    def reasons(html: str) -> set[str]:
        return set(re.findall(r'<td class="field-reason">([^<]*)</td>', html))

    assert reasons(default) == {"email_invalid", "owner_missing"}
    assert reasons(warnings) == {"preferences_not_object"}
    assert reasons(everything) == {"email_invalid", "owner_missing", "preferences_not_object"}
    assert reasons(by_source) == {"owner_missing"}
    assert reasons(by_reason) == {"email_invalid"}
    # Each rejected row links to its legacy row.
    assert f'href="{url(AuthUser, "change", copied.bad)}"' in default


def test_conflict_list_filters_by_source_and_field(admin_client, copied):
    shared = html_of(admin_client, url(Conflict, "changelist"), source="user")
    fastapi = html_of(admin_client, url(Conflict, "changelist"), source="fu_users")
    superuser = html_of(admin_client, url(Conflict, "changelist"), field="is_superuser")

    assert "is_superuser" in shared
    shared_id = legacy_id_of(SharedUser, copied.shared)
    assert f'href="{url(SharedUser, "change", shared_id)}"' in shared
    assert f'href="{url(SharedUser, "change", shared_id)}"' not in fastapi
    assert "rights come only from the winning row" in superuser
    assert_no_secret(shared + fastapi, copied.secrets)


# ---- secrets, everywhere ------------------------------------------------------------------


def test_no_page_shows_a_secret_in_full(admin_client, copied):
    verify_legacy(apps)
    pages = [
        reverse("admin:index"),
        reverse("admin:legacy_overview"),
        url(User, "changelist"),
        url(User, "change", copied.user.pk),
        url(ApiKey, "changelist"),
        url(LoginSession, "changelist"),
        url(LoginSession, "change", LoginSession.objects.get().pk),
        url(RowIssue, "changelist") + "?kind=all",
        url(Conflict, "changelist"),
        url(CopyRun, "changelist"),
        *(url(CopyRun, "change", run.pk) for run in CopyRun.objects.all()),
    ]
    for model in apps.get_app_config("legacy").get_models():
        if model._meta.managed:
            continue
        pages.append(url(model, "changelist"))
        for obj in model.objects.all():
            pages.append(url(model, "change", obj.pk))

    for page in pages:
        assert_no_secret(html_of(admin_client, page), copied.secrets)
