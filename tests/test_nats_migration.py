"""natscreds 0002_copy_legacy_nats: forward with historical models, backward, forward again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from legacy.models import RowIssue
from natscreds.models import NatsAccount, NatsAuthSession
from tests.test_nats_factory import NatsRows

BEFORE_ANY_COPY = [("accounts", "0001_users_and_api_keys")]
BEFORE_NATS_COPY = [("natscreds", "0001_nats_accounts_and_sessions")]


def migrate_to(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def state():
    return (
        sorted(
            User.objects.values_list(
                "email", "nats_public_key", "nats_legacy_id", "nats_problems", "nats_account__name"
            )
        ),
        sorted(NatsAccount.objects.values_list("name", "legacy_id")),
        sorted(NatsAuthSession.objects.values_list("user__email", "account__name", "legacy_id")),
        sorted(
            RowIssue.objects.filter(source__startswith="nats").values_list("legacy_id", "reason")
        ),
    )


def test_the_nats_copy_runs_after_the_people_and_reverses_exactly(legacy_committed):
    legacy = legacy_committed
    migrate_to(BEFORE_ANY_COPY)
    nats = NatsRows(legacy)
    ann = legacy.user("ann@example.com")
    account = nats.account()
    old = nats.credential(ann, account, created_at=datetime.now(tz=UTC) - timedelta(days=1))
    new = nats.credential(ann, account, jwt="not.a.jwt")
    nats.session(ann, credential_id=new.id)
    before = legacy.snapshot_all()

    migrate_to(latest())  # people first (accounts 000x), then NATS (natscreds 0002)
    copied = state()
    user = User.objects.get()
    assert (user.nats_legacy_id, user.nats_problems) == (str(new.id), "jwt_malformed")
    assert (str(old.id), "credential_superseded") in copied[3]
    assert NatsAuthSession.objects.get().account.name == "acme"

    migrate_to(BEFORE_NATS_COPY)
    # The person stays; only what the NATS copy did is undone. (Only the NATS fields are
    # read: the user's later fields are unapplied with the migrations after it.)
    nats_fields = User.objects.values_list("nats_public_key", "nats_legacy_id", "nats_problems")
    assert nats_fields.get() == (None, None, None)
    assert not NatsAccount.objects.exists() and not NatsAuthSession.objects.exists()
    assert not RowIssue.objects.filter(source__startswith="nats").exists()

    migrate_to(latest())
    assert state() == copied
    migrate_to(BEFORE_ANY_COPY)  # through the NATS reverse and the removal of the fields
    assert not User.objects.exists()
    migrate_to(latest())
    assert state() == copied
    assert legacy.snapshot_all() == before
