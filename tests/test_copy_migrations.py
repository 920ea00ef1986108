"""The copy as a migration: forward with historical models, backward, forward again."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import ApiKey, User, UserOrigin

BEFORE_COPY = [("accounts", "0001_users_and_api_keys")]


def migrate_to(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def state():
    return (
        sorted(User.objects.values_list("email", "password", "is_active", "legacy_id")),
        sorted(UserOrigin.objects.values_list("source", "legacy_id", "user__email")),
        sorted(ApiKey.objects.values_list("digest", "user__email")),
    )


def test_migrate_copies_and_migrating_back_removes_exactly_that(legacy_committed):
    legacy = legacy_committed
    migrate_to(BEFORE_COPY)
    # The model as it was at that migration: later fields have no columns yet.
    historical = MigrationExecutor(connection).loader.project_state(BEFORE_COPY).apps
    historical.get_model("accounts", "User").objects.create(
        email="native@example.com", password=make_password("pw")
    )
    ann = legacy.user("ann@example.com", "pw", role="member")
    legacy.user("ANN@example.com", "pw2")
    legacy.api_key(ann, "t1")
    before = legacy.snapshot_all()

    migrate_to(latest())
    copied = state()
    assert User.objects.count() == 2 and ApiKey.objects.count() == 1

    migrate_to(BEFORE_COPY)
    assert list(User.objects.values_list("email", flat=True)) == ["native@example.com"]
    assert UserOrigin.objects.count() == ApiKey.objects.count() == 0

    migrate_to(latest())
    assert state() == copied
    assert legacy.snapshot_all() == before


def test_migrate_command_runs_the_copy(legacy_committed):
    migrate_to(BEFORE_COPY)
    legacy_committed.user("ann@example.com", "pw")
    call_command("migrate", verbosity=0)
    assert User.objects.filter(email="ann@example.com").exists()


def test_migrate_holds_what_an_unproven_merged_row_brings(legacy_committed, capsys):
    """The copy migrations older than holds copy nothing; the one after them copies with
    holds, so a fresh migrate never lets a squatter's row in. Migrating back removes the
    holds with the rest."""
    from rest_framework.test import APIClient

    from legacy.models import Hold

    legacy = legacy_committed
    migrate_to(BEFORE_COPY)
    legacy.user("victim@corp.test", password="")
    legacy.api_key(legacy.user("VICTIM@corp.test", "squatters-pw"), "squatters-token")

    call_command("migrate", verbosity=1)

    user = User.objects.get()
    assert not user.has_usable_password()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer squatters-token")
    assert client.get("/api/me").status_code == 401
    assert Hold.objects.get().kind == "api_key"
    output = capsys.readouterr().out
    assert "held for review" in output and "LEGACY_VERIFIED_SOURCES" in output

    migrate_to(BEFORE_COPY)
    assert not Hold.objects.exists() and not User.objects.exists()


def test_the_demo_shows_a_held_item_and_why(legacy_committed):
    from io import StringIO

    from legacy.engine.schema import LEGACY_MODELS

    migrate_to(BEFORE_COPY)
    for key in LEGACY_MODELS:  # the demo's rows include orphans, on purpose
        legacy_committed.allow_orphans(key)
    out = StringIO()

    call_command("demo", stdout=out)

    shown = out.getvalue()
    assert "== held for review" in shown
    assert "never confirmed" in shown and "LEGACY_VERIFIED_SOURCES" in shown
