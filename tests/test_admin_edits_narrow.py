"""An admin edit of a key or session may take access away, never give it back.

Re-activating, un-revoking, extending and releasing a hold are refused on the project's
API key admin, and on admins of no special make (a probe site) that let staff edit every
field, add rows, or edit keys inline on the user page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import path, reverse
from django.utils import timezone

from accounts.models import ApiKey, LoginSession, User
from authcore.lib.admin_guard import guard_site
from tests.conftest import sha256_hex

NOW = timezone.now().replace(microsecond=0)
LATER = NOW + timedelta(days=30)
EARLIER = NOW - timedelta(days=30)


class ProbeKeyAdmin(admin.ModelAdmin):
    """Every field of a key editable, and keys may be added."""

    fields = ("user", "name", "scopes", "is_active", "held", "expires_at", "revoked_at")


class ProbeSessionAdmin(admin.ModelAdmin):
    fields = ("user", "expires_at", "revoked_at", "held", "user_agent")


class KeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("name", "is_active", "expires_at")
    extra = 0


class ProbeUserAdmin(admin.ModelAdmin):
    fields = ("email",)
    inlines = (KeyInline,)


probe = admin.AdminSite(name="probe_edits")
guard_site(probe)
probe.register(ApiKey, ProbeKeyAdmin)
probe.register(LoginSession, ProbeSessionAdmin)
probe.register(User, ProbeUserAdmin)
urlpatterns = [path("probe/", probe.urls), path("admin/", admin.site.urls)]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def change_url(obj: Any, site: str = "admin") -> str:
    opts = obj._meta
    return reverse(f"{site}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def split(value: datetime | None) -> tuple[str, str]:
    if value is None:
        return "", ""
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def form_data(values: dict[str, Any]) -> dict[str, str]:
    """POST data for the admin: booleans as checkboxes, datetimes split in two."""
    data = {"_save": "Save"}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, datetime) or (value is None and name.endswith("_at")):
            data[f"{name}_0"], data[f"{name}_1"] = split(value)
        else:
            data[name] = "" if value is None else str(value)
    return data


def key_values(key: ApiKey, **changes: Any) -> dict[str, Any]:
    """What ApiKeyAdmin's form holds for ``key``, with ``changes``."""
    values = {
        "name": key.name,
        "scopes": key.scopes,
        "is_active": key.is_active,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }
    return {**values, **changes}


@pytest.fixture
def ann() -> User:
    return User.objects.create_user("ann@example.com", "pw")


def a_key(user: User, **values: Any) -> ApiKey:
    values.setdefault("digest", sha256_hex(f"token-{ApiKey.objects.count()}"))
    values.setdefault("name", "ci")
    values.setdefault("prefix", "tok_abcd")
    return ApiKey.objects.create(user=user, **values)


def post(client, obj: Any, values: dict[str, Any], site: str = "admin") -> Any:
    return client.post(change_url(obj, site), form_data(values))


def refused(response: Any) -> bool:
    return response.status_code == 200 and "Refused:" in response.content.decode()


# ---- the project's API key admin --------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "change"),
    [
        ({"is_active": False}, {"is_active": True}),
        ({"revoked_at": EARLIER}, {"revoked_at": None}),
        ({"revoked_at": EARLIER}, {"revoked_at": LATER}),
        ({"expires_at": EARLIER}, {"expires_at": LATER}),
        ({"expires_at": EARLIER}, {"expires_at": None}),
        ({"expires_at": LATER}, {"expires_at": LATER + timedelta(days=1)}),
        ({"scopes": "read"}, {"scopes": "read,write"}),
        ({"scopes": "read"}, {"scopes": ""}),
        ({"scopes": None}, {"scopes": "read"}),
    ],
    ids=[
        "re-activate",
        "un-revoke",
        "revoke-later",
        "extend-expired",
        "never-expire",
        "extend",
        "add-scope",
        "empty-scopes",
        "scopes-from-none",
    ],
)
def test_an_edit_that_gives_a_key_access_back_is_refused(admin_client, ann, before, change):
    key = a_key(ann, **before)
    stored = ApiKey.objects.values().get(pk=key.pk)

    response = post(admin_client, key, key_values(key, **change))

    assert refused(response), response.status_code
    assert ApiKey.objects.values().get(pk=key.pk) == stored


def test_a_copied_expired_key_cannot_be_brought_back(admin_client, ann):
    key = a_key(ann, expires_at=EARLIER, is_active=False, legacy_source="users", legacy_id="7")

    response = post(admin_client, key, key_values(key, is_active=True, expires_at=LATER))

    key.refresh_from_db()
    assert refused(response)
    assert key.is_active is False and key.expires_at == EARLIER


@pytest.mark.parametrize(
    ("before", "change"),
    [
        ({}, {"is_active": False}),
        ({}, {"revoked_at": NOW}),
        ({"revoked_at": NOW}, {"revoked_at": EARLIER}),
        ({}, {"expires_at": LATER}),
        ({"expires_at": LATER}, {"expires_at": NOW}),
        ({}, {"name": "renamed"}),
        ({"scopes": "read,write"}, {"scopes": "read"}),
    ],
    ids=["deactivate", "revoke", "revoked-earlier", "expire", "shorten", "rename", "drop-scope"],
)
def test_an_edit_that_narrows_a_key_is_saved(admin_client, ann, before, change):
    key = a_key(ann, **before)

    response = post(admin_client, key, key_values(key, **change))

    assert response.status_code == 302, response.content.decode()[:3000]
    key.refresh_from_db()
    for name, value in change.items():
        assert getattr(key, name) == value


def test_a_held_key_stays_held_whatever_is_posted(admin_client, ann):
    key = a_key(ann, held=True)

    page = admin_client.get(change_url(key)).content.decode()
    response = post(admin_client, key, key_values(key, name="renamed"))  # no "held" box

    key.refresh_from_db()
    assert response.status_code == 302
    assert key.held is True and key.name == "renamed"
    assert 'name="held"' not in page


def test_the_refusal_holds_without_the_form(admin_user, ann):
    key = a_key(ann, is_active=False)
    model_admin = admin.site._registry[ApiKey]
    request = RequestFactory().post("/")
    request.user = admin_user
    key.is_active = True

    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, key, None, True)

    assert ApiKey.objects.get(pk=key.pk).is_active is False


# ---- admins of no special make --------------------------------------------------------------


def probe_key_values(key: ApiKey, **changes: Any) -> dict[str, Any]:
    return {**key_values(key), "user": key.user_id, "held": key.held, **changes}


def test_clearing_held_on_a_key_is_refused_even_where_it_is_editable(admin_client, ann):
    key = a_key(ann, held=True)

    response = post(admin_client, key, probe_key_values(key, held=False), "probe_edits")

    assert refused(response)
    assert ApiKey.objects.get(pk=key.pk).held is True


def test_holding_a_key_or_moving_it_to_someone_else(admin_client, ann):
    bob = User.objects.create_user("bob@example.com", "pw")
    key = a_key(ann)

    moved = post(admin_client, key, probe_key_values(key, user=bob.pk), "probe_edits")
    held = post(admin_client, key, probe_key_values(key, held=True), "probe_edits")

    assert refused(moved)
    assert held.status_code == 302
    key.refresh_from_db()
    assert key.user == ann and key.held is True


def test_a_key_cannot_be_added_through_the_admin(admin_client, ann):
    page = reverse("probe_edits:accounts_apikey_add")
    values = {"user": ann.pk, "name": "new", "scopes": "", "is_active": True, "held": False}
    values.update(expires_at=None, revoked_at=None)

    response = admin_client.post(page, form_data(values))

    assert refused(response)
    assert not ApiKey.objects.exists()


def session_values(session: LoginSession, **changes: Any) -> dict[str, Any]:
    values = {
        "user": session.user_id,
        "expires_at": session.expires_at,
        "revoked_at": session.revoked_at,
        "held": session.held,
        "user_agent": session.user_agent,
    }
    return {**values, **changes}


@pytest.mark.parametrize(
    ("before", "change"),
    [
        ({"revoked_at": EARLIER}, {"revoked_at": None}),
        ({"expires_at": NOW}, {"expires_at": LATER}),
        ({"held": True}, {"held": False}),
    ],
    ids=["un-revoke", "extend", "release"],
)
def test_an_edit_that_gives_a_session_access_back_is_refused(admin_client, ann, before, change):
    values = {"expires_at": LATER, **before}
    session = LoginSession.objects.create(user=ann, token_digest=sha256_hex("s"), **values)
    stored = LoginSession.objects.values().get(pk=session.pk)

    response = post(admin_client, session, session_values(session, **change), "probe_edits")

    assert refused(response)
    assert LoginSession.objects.values().get(pk=session.pk) == stored


def test_revoking_a_session_is_saved(admin_client, ann):
    session = LoginSession.objects.create(user=ann, token_digest=sha256_hex("s"), expires_at=LATER)

    response = post(admin_client, session, session_values(session, revoked_at=NOW), "probe_edits")

    assert response.status_code == 302
    assert LoginSession.objects.get().revoked_at == NOW


def inline_data(user: User, key: ApiKey, **changes: Any) -> dict[str, str]:
    values = {"name": key.name, "is_active": key.is_active, "expires_at": key.expires_at}
    values.update(changes)
    data = {
        "email": user.email,
        "api_keys-TOTAL_FORMS": "1",
        "api_keys-INITIAL_FORMS": "1",
        "api_keys-MIN_NUM_FORMS": "0",
        "api_keys-MAX_NUM_FORMS": "1000",
        "api_keys-0-id": str(key.pk),
        "api_keys-0-user": str(user.pk),
    }
    for name, value in form_data(values).items():
        data[name if name == "_save" else f"api_keys-0-{name}"] = value
    return data


def test_an_inline_edit_that_reactivates_a_key_is_refused(admin_client, ann):
    key = a_key(ann, is_active=False)
    page = change_url(ann, "probe_edits")

    reactivated = admin_client.post(page, inline_data(ann, key, is_active=True))
    renamed = admin_client.post(page, inline_data(ann, key, name="renamed"))

    assert refused(reactivated)
    assert renamed.status_code == 302
    key.refresh_from_db()
    assert key.is_active is False and key.name == "renamed"
