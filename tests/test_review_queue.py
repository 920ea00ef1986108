"""The admin's review queue: held items, conflicts and rejected rows, decided by a person
with the permission to decide, never by one who can only look."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiKey, User, UserOrigin
from legacy.engine import copy_legacy
from legacy.models import Conflict, Hold, ReviewItem, RowIssue
from tests.conftest import sha256_hex

QUEUE = reverse("admin:legacy_reviewitem_changelist")


@pytest.fixture
def queued(legacy):
    """Ann's auth-service row, a case variant of it with a key (held), a role conflict and
    a row rejected for its address."""
    legacy.user("ann@example.com", role="member")
    legacy.api_key(legacy.user("ANN@Example.com", role="admin"), "held-token")
    legacy.user("not an address")
    copy_legacy(apps)


def staff_client(*permissions: str) -> tuple[Client, User]:
    user = User.objects.create_user("reviewer@example.com", "pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client, user


def act(client: Client, action: str, items) -> None:
    client.post(QUEUE, {"action": action, "_selected_action": [i.pk for i in items]})


def key_works() -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer held-token")
    return client.get("/api/me").status_code == 200


def test_one_page_lists_holds_conflicts_and_rejections(queued, admin_client):
    page = admin_client.get(QUEUE)

    assert page.status_code == 200
    kinds = set(ReviewItem.objects.values_list("kind", flat=True))
    assert kinds == {"held", "conflict", "rejected"}
    assert page.context["cl"].result_count == ReviewItem.objects.count()
    assert (
        reverse("admin:legacy_reviewitem_changelist")
        in admin_client.get(reverse("admin:index")).content.decode()
    )


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ("kind=held", {"held"}),
        ("kind=conflict", {"conflict"}),
        ("kind=rejected", {"rejected"}),
        ("source=user_api_keys", {"held"}),
        ("service=auth_service", {"held", "conflict", "rejected"}),
        ("service=shared_models", set()),
        ("reason=role", {"conflict"}),
        ("decision=undecided", {"held", "conflict", "rejected"}),
        ("decision=released", set()),
        ("q=ann%40EXAMPLE.com", {"held", "conflict"}),
    ],
)
def test_the_queue_filters_and_searches(queued, admin_client, query, kinds):
    page = admin_client.get(f"{QUEUE}?{query}")

    assert page.status_code == 200
    assert {item.kind for item in page.context["cl"].result_list} == kinds


def test_the_lines_of_one_person(queued, admin_client):
    ann = User.objects.get(email="ann@example.com")
    page = admin_client.get(f"{QUEUE}?user__id__exact={ann.pk}")
    assert {item.user_id for item in page.context["cl"].result_list} == {ann.pk}


def test_view_access_alone_decides_nothing(queued):
    client, _ = staff_client("view_reviewitem")
    assert client.get(QUEUE).status_code == 200

    for action in ("release", "dismiss", "take_legacy_value", "keep_authcore_value"):
        act(client, action, ReviewItem.objects.all())

    assert set(Hold.objects.values_list("decision", flat=True)) == {""}
    assert set(Conflict.objects.values_list("decision", flat=True)) == {""}
    assert not key_works()
    assert not LogEntry.objects.exists()


def test_release_lets_the_key_in_and_is_recorded(queued):
    client, reviewer = staff_client("view_reviewitem", "decide_reviewitem")

    act(client, "release", ReviewItem.objects.filter(kind="held"))

    assert key_works()
    hold = Hold.objects.get()
    assert (hold.decision, hold.decided_by) == ("released", reviewer)
    assert hold.decided_at is not None
    entry = LogEntry.objects.get()
    assert (entry.user, entry.change_message) == (reviewer, "released")
    copy_legacy(apps, sync=True)  # a later run keeps the decision
    assert key_works() and Hold.objects.get().decision == "released"


def test_dismiss_decides_every_kind_and_keeps_the_key_held(queued):
    client, reviewer = staff_client("view_reviewitem", "decide_reviewitem")

    act(client, "dismiss", ReviewItem.objects.all())

    assert not key_works()
    assert ApiKey.objects.get(digest=sha256_hex("held-token")).held
    for model in (Hold, Conflict):
        assert set(model.objects.values_list("decision", "decided_by")) == {
            ("dismissed", reviewer.pk)
        }
    assert RowIssue.objects.get(kind="rejected").decision == "dismissed"
    assert set(ReviewItem.objects.values_list("decision", flat=True)) == {"dismissed"}


def test_take_the_legacy_role_and_keep_authcores(queued):
    client, _ = staff_client("view_reviewitem", "decide_reviewitem")
    conflict = ReviewItem.objects.filter(kind="conflict", reason="role")

    act(client, "take_legacy_value", conflict)

    ann = User.objects.get(email="ann@example.com")
    assert set(ann.groups.values_list("name", flat=True)) == {"member", "admin"}
    assert Conflict.objects.get(field="role").decision == "legacy_taken"
    act(client, "keep_authcore_value", conflict)  # decided already: nothing changes
    assert Conflict.objects.get(field="role").decision == "legacy_taken"


def test_the_queue_cannot_be_edited_or_deleted(queued, admin_client):
    item = ReviewItem.objects.first()
    change = reverse("admin:legacy_reviewitem_change", args=[item.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"decision": "released"}).status_code == 403
    delete = reverse("admin:legacy_reviewitem_delete", args=[item.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    admin_client.post(QUEUE, {"action": "delete_selected", "_selected_action": [item.pk]})
    assert ReviewItem.objects.filter(pk=item.pk).exists()


# ---- attacks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        "user__password__startswith=bcrypt",
        "user__api_keys__digest__startswith=0",
        "decided_by__password__startswith=pbkdf2",
        "user__origins__legacy_password__startswith=bcrypt",
    ],
)
def test_the_queue_is_no_oracle_on_a_secret(queued, admin_client, lookup):
    assert admin_client.get(f"{QUEUE}?{lookup}").status_code == 400


def test_the_queue_shows_no_password_hash(queued, admin_client):
    hashes = [u.password for u in User.objects.all()] + [
        o.legacy_password for o in UserOrigin.objects.all()
    ]
    pages = [admin_client.get(QUEUE).content.decode()]
    pages += [
        admin_client.get(reverse("admin:legacy_reviewitem_change", args=[item.pk])).content.decode()
        for item in ReviewItem.objects.all()
    ]
    for page in pages:
        for secret in hashes:
            assert secret[-20:] not in page


def test_a_held_key_gets_into_no_route(queued):
    """The held token, tried on every kind of route: the API, fastapi-users' users/me."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer held-token")
    for path in ("/api/me", "/api/keys", "/fu_auth/users/me", "/api/tenants"):
        assert client.get(path).status_code == 401, path
    assert client.post("/api/keys", {"name": "mine"}, format="json").status_code == 401
