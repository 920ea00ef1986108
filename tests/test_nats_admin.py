"""The NATS admin: credentials on the user page (seed hash never shown), accounts, sessions.

accounts.admin's UserAdmin includes UserNatsAdminMixin; a site of its own registers it
here next to the NATS admins.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from accounts.admin import UserAdmin
from accounts.models import User
from legacy.engine import copy_legacy
from natscreds.admin import (
    NatsAccountAdmin,
    NatsAuthSessionAdmin,
    NatsVerificationFilter,
    UserNatsAdminMixin,
    shorten_jwt,
)
from natscreds.models import NatsAccount, NatsAuthSession
from tests.test_nats_factory import NatsRows, tampered

site = admin.AdminSite(name="nats_admin_test")


assert issubclass(UserAdmin, UserNatsAdminMixin)
assert "nats_status" in UserAdmin.list_display
assert NatsVerificationFilter in UserAdmin.list_filter

site.register(User, UserAdmin)
site.register(NatsAccount, NatsAccountAdmin)
site.register(NatsAuthSession, NatsAuthSessionAdmin)
urlpatterns = [path("nats-admin/", site.urls), path("admin/", admin.site.urls)]

pytestmark = pytest.mark.urls(__name__)


def url(model, view, *args):
    opts = model._meta
    return reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture
def copied(legacy):
    """Ann with a valid credential, Bob with a tampered one, Cy with none; sessions."""
    nats = NatsRows(legacy)
    ann, bob = legacy.user("ann@example.com"), legacy.user("bob@example.com")
    legacy.user("cy@example.com")
    account = nats.account("acme")
    good = nats.credential(ann, account)
    bad = nats.credential(bob, account)
    legacy.execute(
        "UPDATE nats_user_credential SET jwt = %s WHERE id = %s",
        [tampered(bad.jwt, name="root"), bad.id],
    )
    nats.session(ann, credential_id=good.id, client_id="laptop", ip_address="192.0.2.9")
    nats.session(bob, account_id=account.id, client_id="phone")
    copy_legacy(apps)
    return {"good": good, "bad": bad, "account": account}


def test_the_user_page_shows_the_credential_but_never_the_seed_hash(admin_client, copied):
    ann = User.objects.get(email="ann@example.com")

    html = admin_client.get(url(User, "change", ann.pk)).content.decode()

    assert "NATS credential" in html
    assert ann.nats_public_key in html
    assert shorten_jwt(ann.nats_jwt) in html
    assert ann.nats_jwt not in html  # shortened only
    assert ann.nats_seed_hash not in html and ann.nats_seed_hash[:12] not in html
    assert 'name="nats_seed_hash"' not in html and 'name="nats_jwt"' not in html
    assert "&quot;sub&quot;: &quot;" + ann.nats_public_key in html  # decoded claims
    assert "exp:" in html
    assert "passed every check" in html
    assert 'href="/nats-admin/natscreds/natsaccount/' in html  # the account, linked


def test_a_flagged_credential_shows_its_flags(admin_client, copied):
    bob = User.objects.get(email="bob@example.com")
    html = admin_client.get(url(User, "change", bob.pk)).content.decode()
    assert "jwt_signature_invalid" in html
    assert "the signature does not verify with" in html
    assert "&quot;name&quot;: &quot;root&quot;" in html  # the tampered claims, decoded


def test_the_add_page_has_no_nats_fieldset(admin_client, db):
    html = admin_client.get(url(User, "add")).content.decode()
    assert "field-nats_jwt_short" not in html and "field-nats_public_key" not in html


def test_saving_the_user_page_leaves_the_credential_alone(admin_client, copied):
    ann = User.objects.get(email="ann@example.com")
    before = User.objects.filter(pk=ann.pk).values().get()
    page = admin_client.get(url(User, "change", ann.pk))
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None and name not in {"groups", "user_permissions"}
    }
    data.update(
        {
            "email": "ann@example.com",
            "nats_seed_hash": "forged",
            "nats_jwt": "forged",
            "nats_problems": "",
            "date_joined_0": ann.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": ann.date_joined.strftime("%H:%M:%S"),
        }
    )
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for form_ in inline.formset.initial_forms:
            data.update({form_.add_prefix(k): v for k, v in form_.initial.items() if v is not None})
    response = admin_client.post(url(User, "change", ann.pk), data)
    errors = response.context and response.context["adminform"].form.errors
    assert response.status_code == 302, errors
    after = User.objects.filter(pk=ann.pk).values().get()
    nats_fields = [name for name in before if name.startswith("nats_")]
    assert {f: after[f] for f in nats_fields} == {f: before[f] for f in nats_fields}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("passed", {"ann@example.com"}),
        ("flagged", {"bob@example.com"}),
        ("jwt_signature_invalid", {"bob@example.com"}),
        ("jwt_issuer_mismatch", set()),
        ("none", {"cy@example.com", "admin@example.com"}),
        ("unchecked", set()),
    ],
)
def test_users_filter_by_verification(admin_client, copied, value, expected):
    response = admin_client.get(url(User, "changelist"), {"nats": value})
    shown = {u.email for u in response.context["cl"].result_list}
    assert shown == expected


def test_the_user_list_shows_the_outcome(admin_client, copied):
    html = admin_client.get(url(User, "changelist")).content.decode()
    assert '<td class="field-nats_status">passed</td>' in html
    assert '<td class="field-nats_status">jwt_signature_invalid</td>' in html


def test_accounts_are_view_only_with_user_counts(admin_client, copied):
    account = NatsAccount.objects.get()

    listing = admin_client.get(url(NatsAccount, "changelist"))
    page = admin_client.get(url(NatsAccount, "change", account.pk)).content.decode()

    assert '<td class="field-user_count">2</td>' in listing.content.decode()
    assert account.public_key in page
    assert "passed every check" in page
    assert 'name="_save"' not in page
    assert admin_client.get(url(NatsAccount, "add")).status_code == 403
    flagged = admin_client.get(url(NatsAccount, "changelist"), {"nats": "flagged"})
    passed = admin_client.get(url(NatsAccount, "changelist"), {"nats": "passed"})
    assert list(flagged.context["cl"].result_list) == []
    assert list(passed.context["cl"].result_list) == [account]


def test_sessions_list_on_the_person_and_account_without_a_query_per_row(admin_client, copied):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url(NatsAuthSession, "changelist"))
        assert response.status_code == 200
        return len(captured), response.content.decode()

    few, html = queries()
    assert "laptop" in html and "phone" in html and "acme" in html
    user = User.objects.get(email="ann@example.com")
    for n in range(5):
        NatsAuthSession.objects.create(
            user=user, account=NatsAccount.objects.get(), client_id=f"c{n}"
        )
    more, _ = queries()
    assert more == few

    closed = admin_client.get(url(NatsAuthSession, "changelist"), {"state": "closed"})
    assert list(closed.context["cl"].result_list) == []
    session = NatsAuthSession.objects.filter(legacy_source__isnull=False).first()
    page = admin_client.get(url(NatsAuthSession, "change", session.pk)).content.decode()
    assert 'name="_save"' not in page
