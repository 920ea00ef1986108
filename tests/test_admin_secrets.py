"""No admin page shows a secret, and no admin answers a question about one.

The secrets are authcore/lib/secret_fields.py's columns. Every registered admin is tried,
Django's and simplejwt's included, and so is an admin of no special make registered on a
site after it was guarded, standing in for admins written later.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.db import connection, models
from django.test import RequestFactory
from django.urls import path, reverse
from django.utils import timezone
from passlib.hash import pbkdf2_sha256
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import ApiKey, LoginSession, User, UserOrigin
from authcore.lib.admin_guard import SecretGuard, guard_site, is_guarded, is_secret_field
from authcore.lib.secret_fields import SECRET_FIELDS
from legacy.models import AuthUser, Conflict, CopyRun, RowIssue
from natscreds.models import NatsAccount, NatsAuthSession
from tests.conftest import bcrypt_hash, sha256_hex
from tests.secret_values import leaks, stored_secrets
from tests.test_nats_factory import Keys, NatsRows, user_jwt

LATER = timezone.now() + timedelta(days=30)
ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"


class ProbeKeyAdmin(admin.ModelAdmin):
    """An admin written without a thought for secrets: every mistake one could make."""

    list_display = ("name", "digest", "digest_start")
    list_filter = ("digest", "user__api_keys__digest")
    search_fields = ("^digest", "name", "user__password")
    readonly_fields = ("digest",)

    @admin.display(ordering="digest")
    def digest_start(self, obj: ApiKey) -> str:
        return "…"


probe = admin.AdminSite(name="probe_secrets")
guard_site(probe)
# Registered after the site was guarded, as later admins will be.
probe.register(ApiKey, ProbeKeyAdmin)
probe.register(UserOrigin)
probe.register(User)
urlpatterns = [path("probe/", probe.urls), path("admin/", admin.site.urls)]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def url(model: type[models.Model], view: str, *args: Any, site: str = "admin") -> str:
    opts = model._meta
    return reverse(f"{site}:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture
def everything(legacy, admin_user) -> User:
    """A value in every secret column: legacy rows, consolidated rows, NATS, simplejwt."""
    ann = legacy.user("ann@example.com", "ann-pw", role="admin")
    legacy.api_key(ann, "ann-token")
    shared = legacy.insert(
        "user", email="Ann@example.com", hashed_password=pbkdf2_sha256.hash("shared-pw")
    )
    legacy.insert(
        "user_api_key",
        user_id=shared,
        name="deploy",
        prefix="zyxwvuts",
        key_hash=sha256_hex("shared-token"),
    )
    legacy.insert(
        "user_session", user_id=shared, token_hash=sha256_hex("session-token"), expires_at=LATER
    )
    legacy.insert("fu_users", email="ANN@example.com", hashed_password=ARGON2)
    nats = NatsRows(legacy)
    account = nats.account("acme")
    account_jwt = user_jwt(account.keys.public_key, Keys.account(), nats_type="account")
    legacy.execute("UPDATE nats_account SET jwt = %s WHERE id = %s", [account_jwt, account.id])
    credential = nats.credential(ann, account)
    nats.session(ann, credential_id=credential.id, client_id="laptop")

    user = User.objects.create_user("ann@example.com")
    User.objects.filter(pk=user.pk).update(
        password="legacy_bcrypt$" + bcrypt_hash("ann-pw"),
        nats_jwt=credential.jwt,
        nats_seed_hash=credential.keys.seed_hash,
        nats_public_key=credential.keys.public_key,
        nats_problems="",
        legacy_source="users",
        legacy_id=str(ann),
    )
    now = timezone.now()
    UserOrigin.objects.create(
        user=user,
        source="users",
        legacy_id=str(ann),
        legacy_email="ann@example.com",
        copied_at=now,
        legacy_password=bcrypt_hash("ann-pw"),
        proven=True,
    )
    ApiKey.objects.create(
        user=user, name="ci", prefix="tok_abcd", digest=sha256_hex("ann-token"), scopes="read"
    )
    LoginSession.objects.create(
        user=user, token_digest=sha256_hex("session-token"), expires_at=LATER
    )
    nats_account = NatsAccount.objects.create(
        name="acme", public_key=account.keys.public_key, jwt=account_jwt
    )
    NatsAuthSession.objects.create(user=user, account=nats_account, client_id="laptop")
    RefreshToken.for_user(user).blacklist()
    RefreshToken.for_user(admin_user)
    run = CopyRun.objects.create(started_at=now, trigger="command")
    RowIssue.objects.create(
        source="users", legacy_id="9", kind="rejected", reason="email_invalid", first_seen_at=now
    )
    Conflict.objects.create(
        user=user,
        field="password",
        source="user",
        legacy_id=str(shared),
        rule="the first row wins",
        detected_at=now,
        run=run,
    )
    return User.objects.get(pk=user.pk)


def table_exists(model: type[models.Model]) -> bool:
    with connection.cursor() as cursor:
        return model._meta.db_table in connection.introspection.table_names(
            cursor, include_views=True
        )


def every_page() -> Iterator[str]:
    """The index, and each registered admin's list and its first rows' pages, on the
    project's site and on the probe."""
    for site in (admin.site, probe):
        yield reverse(f"{site.name}:index")
        for model in site._registry:
            yield url(model, "changelist", site=site.name)
            if not table_exists(model):
                continue
            for pk in model._base_manager.values_list("pk", flat=True)[:3]:
                for view in ("change", "history", "delete"):
                    yield url(model, view, pk, site=site.name)


def crawl(client) -> dict[str, str]:
    pages = {}
    for page in every_page():
        response = client.get(page)
        assert response.status_code in (200, 302, 403), (page, response.status_code)
        if response.status_code == 200:
            pages[page] = response.content.decode()
    return pages


def view_only_staff() -> User:
    staff = User.objects.create_user("viewer@example.com", "pw", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return staff


# ---- pages ------------------------------------------------------------------------------------


def test_every_secret_column_has_a_value_to_look_for(everything):
    found = {name.split("#")[0] for name in stored_secrets()}

    # Every column of the list, but a browser session's: none is made here.
    assert found == {
        f"{label}.{field}"
        for label, fields in SECRET_FIELDS.items()
        for field in fields
        if label != "sessions.Session"
    }


def test_no_page_of_any_admin_shows_a_secret(client, admin_user, everything):
    secrets = stored_secrets()
    client.force_login(admin_user)

    pages = crawl(client)

    assert url(UserOrigin, "change", UserOrigin.objects.get().pk) in pages
    assert url(OutstandingToken, "change", OutstandingToken.objects.first().pk) in pages
    for page, html in pages.items():
        assert not leaks(html, secrets), page


def test_no_page_shows_a_secret_to_staff_who_may_only_view(client, everything):
    secrets = stored_secrets()
    client.force_login(view_only_staff())

    pages = crawl(client)

    assert url(User, "change", everything.pk) in pages
    assert url(UserOrigin, "change", UserOrigin.objects.get().pk) in pages
    for page, html in pages.items():
        assert not leaks(html, secrets), page


def test_the_user_page_shows_the_password_algorithm_only(admin_client, everything):
    stored = everything.password
    salt_and_hash = stored.removeprefix("legacy_bcrypt$$2b$04$")

    html = admin_client.get(url(User, "change", everything.pk)).content.decode()

    assert "legacy_bcrypt" in html
    assert "Reset password" in html
    # Django's own widget shows the first six characters of the salt and of the hash.
    assert salt_and_hash[:6] not in html
    assert salt_and_hash[22:28] not in html


def test_the_user_origin_page_never_shows_the_legacy_hash(admin_client, everything):
    origin = UserOrigin.objects.get()

    html = admin_client.get(url(UserOrigin, "change", origin.pk)).content.decode()

    assert origin.legacy_password[:20] not in html
    assert origin.legacy_password[-20:] not in html
    assert "ann@example.com" in html


def test_the_refresh_token_page_never_shows_the_token(admin_client, everything):
    token = OutstandingToken.objects.filter(user=everything).get()

    html = admin_client.get(url(OutstandingToken, "change", token.pk)).content.decode()

    assert token.jti in html
    assert token.token[-20:] not in html


# ---- URL filters --------------------------------------------------------------------------


def secret_paths(model: type[models.Model], hops: int = 2) -> Iterator[str]:
    """Every lookup path from ``model`` to a secret column, through up to ``hops`` relations."""
    for field in model._meta.get_fields():
        if is_secret_field(field):
            yield field.name
        elif field.is_relation and field.related_model is not None and hops > 0:
            for rest in secret_paths(field.related_model, hops - 1):
                yield f"{field.name}__{rest}"


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (AuthUser, "password_hash__startswith"),
        (UserOrigin, "legacy_password__startswith"),
        (User, "nats_seed_hash__startswith"),
        (User, "nats_jwt__startswith"),
        (User, "password__startswith"),
        (User, "api_keys__digest__startswith"),
        (User, "origins__legacy_password__startswith"),
        (ApiKey, "digest__startswith"),
        (ApiKey, "user__password__startswith"),
        (LoginSession, "token_digest__startswith"),
        (OutstandingToken, "token__startswith"),
        (NatsAccount, "jwt__startswith"),
        # An annotation carrying the legacy hash, whatever its column is called.
        (AuthUser, "legacy_password_value__startswith"),
    ],
)
def test_the_prefix_oracles_of_the_issue_are_refused(admin_client, everything, model, lookup):
    response = admin_client.get(url(model, "changelist"), {lookup: "$"})

    assert response.status_code == 400


def test_every_admin_refuses_every_path_to_a_secret(admin_client, everything):
    tried = 0
    for model in admin.site._registry:
        for lookup in sorted(set(secret_paths(model))):
            response = admin_client.get(url(model, "changelist"), {f"{lookup}__startswith": "a"})
            assert response.status_code == 400, (model._meta.label, lookup)
            tried += 1

    assert tried > 100  # the walk reached through relations, not just each model's own


def test_every_admin_refuses_a_filter_on_an_annotation(admin_user, everything):
    request = RequestFactory().get("/")
    request.user = admin_user
    tried = 0
    for model_admin in admin.site._registry.values():
        for name in model_admin.get_queryset(request).query.annotations:
            assert not model_admin.lookup_allowed(f"{name}__startswith", "a", request), name
            tried += 1

    assert tried >= 3


def test_list_filters_and_other_parameters_still_work(admin_client, everything):
    for model, params in [
        (User, {"hash": "legacy"}),
        (User, {"origin": "legacy", "is_active__exact": "1"}),
        (ApiKey, {"is_active__exact": "1", "held__exact": "0"}),
        (AuthUser, {"copy": "unaccounted", "role_group": "other"}),
        (RowIssue, {"kind": "all"}),
    ]:
        response = admin_client.get(url(model, "changelist"), params)
        assert response.status_code == 200, (model, params)
    html = admin_client.get(url(User, "changelist"), {"hash": "legacy"}).content.decode()
    assert "ann@example.com" in html


def test_the_password_kind_filter_is_not_refused_as_a_password_lookup(admin_client, everything):
    # Django's UserAdmin refuses every parameter starting with "password".
    assert admin_client.get(url(User, "changelist"), {"password": "legacy"}).status_code == 400
    assert admin_client.get(url(User, "changelist"), {"hash": "legacy"}).status_code == 200


# ---- searches, list filters, columns, sort orders -------------------------------------------


def test_no_admin_searches_filters_or_lists_a_secret(admin_user, everything):
    request = RequestFactory().get("/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        for name in model_admin.get_search_fields(request):
            assert not any(name.lstrip("^=@").startswith(p) for p in secret_paths(model, 1)), (
                label,
                name,
            )
        for item in model_admin.get_list_filter(request):
            target = item[0] if isinstance(item, tuple | list) else item
            assert not (isinstance(target, str) and target in set(secret_paths(model))), label
        for column in model_admin.get_list_display(request):
            assert column not in set(secret_paths(model, 0)), (label, column)


def test_a_later_admin_is_guarded_without_opting_in(client, admin_user, everything):
    client.force_login(admin_user)
    key = ApiKey.objects.get()

    listing = client.get(url(ApiKey, "changelist", site="probe_secrets"))
    searched = client.get(url(ApiKey, "changelist", site="probe_secrets"), {"q": key.digest[:12]})
    change = client.get(url(ApiKey, "change", key.pk, site="probe_secrets"))

    assert is_guarded(probe) and isinstance(probe._registry[ApiKey], SecretGuard)
    for response in (listing, searched, change):
        assert response.status_code == 200
        assert key.digest[:20] not in response.content.decode()
    assert searched.context["cl"].result_count == 0  # "^digest" is no search field
    assert "set (not shown)" in change.content.decode()
    filters = listing.context["cl"].filter_specs
    assert not [spec for spec in filters if "digest" in spec.field_path]
    assert (
        client.get(
            url(ApiKey, "changelist", site="probe_secrets"), {"digest__startswith": key.digest[:1]}
        ).status_code
        == 400
    )


def test_a_later_admin_never_sorts_on_a_secret(client, admin_user, everything):
    client.force_login(admin_user)
    listing = client.get(url(ApiKey, "changelist", site="probe_secrets"))
    column = list(listing.context["cl"].list_display).index("digest_start")

    sorted_page = client.get(url(ApiKey, "changelist", site="probe_secrets"), {"o": column})

    ordering = [str(o) for o in sorted_page.context["cl"].queryset.query.order_by]
    assert not [o for o in ordering if "digest" in o]


def test_a_later_admin_takes_no_secret_from_a_form(client, admin_user, everything):
    client.force_login(admin_user)
    origin = UserOrigin.objects.get()
    before = origin.legacy_password
    page = url(UserOrigin, "change", origin.pk, site="probe_secrets")
    html = client.get(page).content.decode()
    data = {
        "user": origin.user_id,
        "source": origin.source,
        "legacy_id": origin.legacy_id,
        "legacy_email": origin.legacy_email,
        "copied_at_0": "2024-01-01",
        "copied_at_1": "00:00:00",
        "legacy_password": "changed",
        "legacy_active": "on",
        "_save": "Save",
    }

    response = client.post(page, data)

    assert before[:20] not in html and "set (not shown)" in html
    assert response.status_code == 302, response.content.decode()[:2000]
    assert UserOrigin.objects.get().legacy_password == before


def test_an_admin_registered_later_on_the_site_is_guarded(db):
    class SessionAdmin(admin.ModelAdmin):
        list_display = ("session_key", "expire_date")

    admin.site.register(Session, SessionAdmin)
    try:
        assert is_guarded(admin.site)
        request = RequestFactory().get("/")
        assert admin.site._registry[Session].get_list_display(request) == ["expire_date"]
        assert not admin.site._registry[Session].lookup_allowed("pk__startswith", "a", request)
    finally:
        admin.site.unregister(Session)


def test_every_registered_admin_is_guarded():
    assert is_guarded(admin.site)
    assert all(isinstance(a, SecretGuard) for a in admin.site._registry.values())
    labels = {model._meta.label for model in admin.site._registry}
    assert {"auth.Group", "token_blacklist.OutstandingToken", "accounts.User"} <= labels


def test_the_list_names_real_fields():
    for label, fields in SECRET_FIELDS.items():
        model = apps.get_model(label)
        for name in fields:
            assert is_secret_field(model._meta.get_field(name)), f"{label}.{name}"
