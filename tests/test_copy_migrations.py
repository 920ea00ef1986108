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
