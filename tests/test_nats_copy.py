"""The NATS copy: credentials onto the person, verified and flagged; accounts; sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps

from accounts.models import User
from legacy.engine import copy_legacy, reverse_legacy, verify_legacy
from legacy.models import RowIssue
from natscreds.models import NatsAccount, NatsAuthSession
from tests.test_nats_factory import LATER, Keys, NatsRows, tampered, user_jwt

NOW = datetime.now(tz=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def nats(legacy) -> NatsRows:
    return NatsRows(legacy)


def copy(**options):
    return copy_legacy(apps, **options)


def issues(source="nats_user_credential"):
    return set(RowIssue.objects.filter(source=source).values_list("legacy_id", "kind", "reason"))


def state():
    return {
        "users": sorted(
            User.objects.values_list(
                "email",
                "nats_jwt",
                "nats_seed_hash",
                "nats_public_key",
                "nats_account__public_key",
                "nats_account_public_key",
                "nats_expires_at",
                "nats_expired_at",
                "nats_legacy_id",
                "nats_problems",
            )
        ),
        "accounts": sorted(NatsAccount.objects.values_list("name", "public_key", "legacy_id")),
        "sessions": sorted(
            NatsAuthSession.objects.values_list("user__email", "account__name", "legacy_id")
        ),
        "issues": sorted(RowIssue.objects.values_list("source", "legacy_id", "reason", "detail")),
    }


def retire(legacy, cred) -> None:
    """The old service retires ``cred``: its expired_at is set."""
    legacy.execute(
        f"UPDATE {legacy.table('nats_user_credential')} SET expired_at = %s WHERE id = %s",
        [NOW, cred.id],
    )


def older_and_newer(legacy, nats):
    """Ann's two valid credentials, a day apart: the newer wins."""
    uid = legacy.user("ann@example.com")
    account = nats.account()
    return (
        nats.credential(uid, account, created_at=NOW - DAY),
        nats.credential(uid, account, created_at=NOW),
    )


def test_a_valid_credential_moves_onto_its_user(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account("acme")
    cred = nats.credential(uid, account)

    report = copy()

    user = User.objects.get()
    assert user.nats_jwt == cred.jwt
    assert user.nats_public_key == cred.keys.public_key
    assert user.nats_seed_hash == cred.keys.seed_hash
    assert user.nats_account.public_key == account.keys.public_key
    assert user.nats_account_public_key == account.keys.public_key
    assert user.nats_expires_at == LATER and user.nats_expired_at is None
    assert (user.nats_legacy_id, user.nats_problems) == (str(cred.id), "")
    assert NatsAccount.objects.get().legacy_id == str(account.id)
    assert report.tables["nats_user_credential"].copied == 1
    assert report.tables["nats_account"].copied == 1
    assert verify_legacy(apps).verification.ok


def test_rotations_the_newest_not_retired_wins_the_others_are_listed(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account()
    oldest = nats.credential(uid, account, created_at=NOW - 3 * DAY)
    current = nats.credential(uid, account, created_at=NOW - 2 * DAY)
    # Newer, but retired: a rotation that was rolled back.
    retired = nats.credential(uid, account, created_at=NOW - DAY, expired_at=NOW - DAY)

    report = copy()

    assert User.objects.get().nats_legacy_id == str(current.id)
    assert issues() == {
        (str(oldest.id), "warning", "credential_superseded"),
        (str(retired.id), "warning", "credential_superseded"),
    }
    detail = RowIssue.objects.get(legacy_id=str(oldest.id)).detail
    assert f"nats_user_credential#{current.id}" in detail
    result = report.tables["nats_user_credential"]
    assert (result.rows, result.copied, result.merged, result.rejected) == (3, 1, 2, 0)
    assert verify_legacy(apps).verification.ok


def test_all_retired_the_newest_wins(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account()
    nats.credential(uid, account, created_at=NOW - 2 * DAY, expired_at=NOW - DAY)
    newest = nats.credential(uid, account, created_at=NOW - DAY, expired_at=NOW)

    copy()

    user = User.objects.get()
    assert user.nats_legacy_id == str(newest.id)
    assert user.nats_expired_at is not None  # still retired: never wider than before


@pytest.mark.usefixtures("every_source_verified")
def test_credentials_of_one_person_in_two_legacy_rows(legacy, nats):
    first = legacy.user("ann@example.com")
    second = legacy.user("ANN@example.com ")
    account = nats.account()
    older = nats.credential(first, account, created_at=NOW - DAY)
    newer = nats.credential(second, account, created_at=NOW)

    copy()

    user = User.objects.get()
    assert user.nats_legacy_id == str(newer.id)
    assert issues() == {(str(older.id), "warning", "credential_superseded")}


def test_a_failing_credential_is_copied_and_flagged(legacy, nats):
    ann, bob, cy = (legacy.user(f"{n}@example.com") for n in ("ann", "bob", "cy"))
    account = nats.account()
    other = nats.account("other")
    good = nats.credential(ann, account)
    forged = nats.credential(bob, account)
    legacy.execute(
        f"UPDATE {legacy.table('nats_user_credential')} SET jwt = %s WHERE id = %s",
        [tampered(forged.jwt, nats={"pub": {"allow": [">"]}}), forged.id],
    )
    # Validly signed, but by another account than the row's.
    keys = Keys.user()
    wrong = nats.credential(cy, account, jwt=user_jwt(keys.public_key, other.keys))

    report = copy()

    users = {u.email: u for u in User.objects.all()}
    assert users["ann@example.com"].nats_problems == ""
    assert users["bob@example.com"].nats_problems == "jwt_signature_invalid"
    assert users["bob@example.com"].nats_legacy_id == str(forged.id)  # copied all the same
    assert users["cy@example.com"].nats_problems == "jwt_subject_mismatch,jwt_issuer_mismatch"
    assert issues() == {
        (str(forged.id), "warning", "jwt_signature_invalid"),
        (str(wrong.id), "warning", "jwt_subject_mismatch"),
        (str(wrong.id), "warning", "jwt_issuer_mismatch"),
    }
    assert report.tables["nats_user_credential"].warnings == 2
    assert str(good.id) not in {legacy_id for legacy_id, *_ in issues()}

    # Flags are listed by --verify, which still passes: the data was copied faithfully.
    verified = verify_legacy(apps)
    assert verified.verification.ok
    notes = "\n".join(verified.notes)
    assert "nats_account 2, nats_user_credential 3 rows: 2 flagged" in notes
    assert f"nats_user_credential#{forged.id}: jwt_signature_invalid" in notes
    assert "nats_user_credential: jwt_issuer_mismatch: 1" in notes


def test_a_seed_kept_in_the_clear_is_copied_and_flagged(legacy, nats):
    ann = legacy.user("ann@example.com")
    cred = nats.credential(ann, nats.account())
    legacy.execute(
        f"UPDATE {legacy.table('nats_user_credential')} SET seed_hash = %s WHERE id = %s",
        [cred.keys.seed.decode(), cred.id],
    )

    copy()

    assert User.objects.get().nats_problems == "seed_not_hashed"
    assert issues() == {(str(cred.id), "warning", "seed_not_hashed")}
    assert verify_legacy(apps).verification.ok


def test_a_jwt_stored_with_blanks_around_it_is_copied_without_them(legacy, nats):
    """Pasted with its line break (read from a .creds file): valid, and copied usable."""
    ann = legacy.user("ann@example.com")
    cred = nats.credential(ann, nats.account())
    legacy.execute(
        f"UPDATE {legacy.table('nats_user_credential')} SET jwt = %s WHERE id = %s",
        [f"  {cred.jwt}\r\n", cred.id],
    )

    copy()

    user = User.objects.get()
    assert (user.nats_jwt, user.nats_problems) == (cred.jwt, "")
    assert verify_legacy(apps).verification.ok


def test_a_signing_key_credential_passes(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account(signing=True)
    nats.credential(uid, account, signer=account.signing)
    copy()
    assert User.objects.get().nats_problems == ""
    assert NatsAccount.objects.get().signing_key_public == account.signing.public_key


def test_credentials_whose_owner_was_not_copied_are_rejected(legacy, nats):
    legacy.allow_orphans("nats_user_credential")
    bad = legacy.user("not-an-email")
    account = nats.account()
    orphan = nats.credential(987654, account)
    of_rejected = nats.credential(bad, account)

    report = copy()

    assert issues() == {
        (str(orphan.id), "rejected", "owner_missing"),
        (str(of_rejected.id), "rejected", "owner_rejected"),
    }
    assert report.tables["nats_user_credential"].rejected == 2
    assert not User.objects.exclude(nats_legacy_id=None).exists()
    assert verify_legacy(apps).verification.ok


def test_a_fixed_owner_resolves_the_rejection(legacy, nats):
    bad = legacy.user("ann@")
    cred = nats.credential(bad, nats.account())
    copy()
    assert issues() == {(str(cred.id), "rejected", "owner_rejected")}

    legacy.execute(
        f"UPDATE {legacy.table('users')} SET email = 'ann@example.com' WHERE id = %s", [bad]
    )
    copy()

    assert User.objects.get().nats_legacy_id == str(cred.id)
    assert issues() == set()


def test_sessions_with_and_without_credential_id(legacy, nats):
    uid = legacy.user("ann@example.com")
    acme, globex = nats.account("acme"), nats.account("globex")
    cred = nats.credential(uid, globex)
    with_both = nats.session(
        uid, account_id=acme.id, credential_id=cred.id, client_id="c1", ip_address="192.0.2.1"
    )
    via_credential = nats.session(uid, credential_id=cred.id, client_id="c2")
    bare = nats.session(uid, client_id="c3", ip_address="2001:db8::2", closed_at=NOW)

    report = copy()

    sessions = {s.legacy_id: s for s in NatsAuthSession.objects.select_related("account")}
    assert sessions[str(with_both)].account.name == "acme"  # its own account_id first
    assert sessions[str(via_credential)].account.name == "globex"  # its credential's
    assert sessions[str(bare)].account is None
    assert sessions[str(bare)].ip_address == "2001:db8::2"
    assert sessions[str(bare)].closed_at is not None
    assert {s.user.email for s in sessions.values()} == {"ann@example.com"}
    assert report.tables["nats_auth_session"].copied == 3
    assert verify_legacy(apps).verification.ok


@pytest.mark.usefixtures("every_source_verified")
def test_sessions_of_a_merged_person_and_orphans(legacy, nats):
    legacy.allow_orphans("nats_auth_session")
    first, second = legacy.user("ann@example.com"), legacy.user("Ann@Example.com")
    nats.session(first)
    nats.session(second)
    orphan = nats.session(424242)

    copy()

    assert NatsAuthSession.objects.filter(user__email="ann@example.com").count() == 2
    assert issues("nats_auth_session") == {(str(orphan), "rejected", "owner_missing")}


def test_a_session_pointing_at_a_missing_account_is_copied_with_a_warning(legacy, nats):
    legacy.allow_orphans("nats_auth_session")
    uid = legacy.user("ann@example.com")
    session = nats.session(uid, account_id=5555)
    copy()
    assert NatsAuthSession.objects.get().account is None
    assert issues("nats_auth_session") == {(str(session), "warning", "account_missing")}


def test_a_second_run_changes_nothing(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account()
    nats.credential(uid, account, created_at=NOW - DAY)
    forged = nats.credential(uid, account, created_at=NOW, jwt="not.a.jwt")
    nats.session(uid, credential_id=forged.id)
    copy()
    before = state()

    report = copy()

    assert state() == before
    assert all(t.copied == t.merged == 0 for t in report.tables.values())


def test_a_rotation_after_the_copy_moves_the_user_on(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account()
    first = nats.credential(uid, account, created_at=NOW - DAY)
    copy()
    # The old service rotates: a new credential, the old one retired.
    second = nats.credential(uid, account, created_at=NOW)
    retire(legacy, first)

    report = copy()

    user = User.objects.get()
    assert (user.nats_legacy_id, user.nats_problems) == (str(second.id), "")
    assert issues() == {(str(first.id), "warning", "credential_superseded")}
    assert report.tables["nats_user_credential"].copied == 1
    assert verify_legacy(apps).verification.ok


def test_a_retirement_after_the_copy_reaches_the_user(legacy, nats):
    uid = legacy.user("ann@example.com")
    cred = nats.credential(uid, nats.account())
    copy()
    retire(legacy, cred)
    assert not verify_legacy(apps).verification.ok  # expired_at_differs: wider than legacy

    copy()

    assert User.objects.get().nats_expired_at is not None
    assert verify_legacy(apps).verification.ok


def test_a_superseded_row_that_wins_later_is_carried_and_no_longer_listed(legacy, nats):
    older, newer = older_and_newer(legacy, nats)
    copy()
    assert issues() == {(str(older.id), "warning", "credential_superseded")}
    # The newer one is retired in the old table: the older, still valid, wins again.
    retire(legacy, newer)

    report = copy()

    user = User.objects.get()
    assert (user.nats_legacy_id, user.nats_expired_at) == (str(older.id), None)
    assert issues() == {(str(newer.id), "warning", "credential_superseded")}
    detail = RowIssue.objects.get(legacy_id=str(newer.id)).detail
    assert detail == f"user {user.pk} carries nats_user_credential#{older.id}"
    result = report.tables["nats_user_credential"]
    assert (result.copied, result.merged) == (1, 1)
    assert verify_legacy(apps).verification.ok
    # And a third run has nothing left to do.
    again = copy().tables["nats_user_credential"]
    assert (again.copied, again.merged) == (0, 0)
    assert issues() == {(str(newer.id), "warning", "credential_superseded")}


def test_a_credential_issued_in_authcore_is_kept(legacy, nats):
    uid = legacy.user("ann@example.com")
    copy()
    User.objects.update(nats_public_key=Keys.user().public_key, nats_jwt="issued-here")
    cred = nats.credential(uid, nats.account())

    copy()

    user = User.objects.get()
    assert (user.nats_jwt, user.nats_legacy_id) == ("issued-here", None)
    assert issues() == {(str(cred.id), "warning", "credential_superseded")}
    assert verify_legacy(apps).verification.ok


def test_reverse_removes_exactly_what_the_copy_made_and_forward_again(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account()
    nats.credential(uid, account, created_at=NOW - DAY)
    nats.credential(uid, account, created_at=NOW, jwt="x.y.z")
    nats.session(uid, account_id=account.id)
    native = NatsAccount.objects.create(name="made here", public_key=Keys.account().public_key)
    before_copy = legacy.snapshot_all()
    copy()
    copied = state()

    reverse_legacy(apps, sources=["nats"])

    user = User.objects.get()
    assert all(getattr(user, f) is None for f in ("nats_jwt", "nats_legacy_id", "nats_problems"))
    assert list(NatsAccount.objects.all()) == [native]
    assert not NatsAuthSession.objects.exists()
    assert not RowIssue.objects.filter(source__startswith="nats_").exists()

    copy()
    assert state() == copied
    assert legacy.snapshot_all() == before_copy  # the legacy tables were only read


def test_verify_fails_when_copied_values_are_wrong(legacy, nats):
    ann, bob = legacy.user("ann@example.com"), legacy.user("bob@example.com")
    account = nats.account()
    cred = nats.credential(ann, account)
    forged = nats.credential(bob, account, jwt="x.y.z")
    nats.session(ann, closed_at=NOW)
    copy()
    User.objects.filter(email="ann@example.com").update(nats_jwt=user_jwt("U", account.keys))
    User.objects.filter(email="bob@example.com").update(nats_problems="")  # flag hidden
    NatsAuthSession.objects.update(closed_at=None)

    problems = {(p.legacy_id, p.problem) for p in verify_legacy(apps).verification.problems}

    assert problems == {
        (str(cred.id), "jwt_differs"),
        (str(forged.id), "nats_flags_differ"),
        (str(NatsAuthSession.objects.get().legacy_id), "closed_in_legacy"),
    }


def test_verify_fails_when_a_user_carries_the_wrong_credential(legacy, nats):
    old, new = older_and_newer(legacy, nats)
    copy()
    User.objects.update(nats_legacy_id=str(old.id))

    problems = {(p.legacy_id, p.problem) for p in verify_legacy(apps).verification.problems}

    assert (str(new.id), "winner_differs") in problems


def test_one_source_at_a_time(legacy, nats):
    uid = legacy.user("ann@example.com")
    nats.credential(uid, nats.account())
    copy(sources=["auth_service"])
    assert User.objects.get().nats_jwt is None
    copy(sources=["nats"])
    assert User.objects.get().nats_jwt is not None


def test_dry_run_counts_credentials_by_state(legacy, nats):
    uid = legacy.user("ann@example.com")
    account = nats.account()
    nats.credential(uid, account)
    nats.credential(uid, account, expired_at=NOW)
    nats.credential(uid, account, expires=NOW - DAY)
    copy()

    report = copy(dry_run=True)

    assert report.hash_census["nats_user_credential"] == {
        "nats: current": 1,
        "nats: past expires_at": 1,
        "nats: retired": 1,
    }


def test_no_nats_tables_is_a_note(legacy):
    legacy.execute(f"DROP TABLE {legacy.table('nats_auth_session')}")
    legacy.execute(f"DROP TABLE {legacy.table('nats_user_credential')}")
    legacy.execute(f"DROP TABLE {legacy.table('nats_account')}")
    report = copy(sources=["nats"])
    assert "nats: no NATS tables, nothing to copy" in report.notes
    assert verify_legacy(apps, sources=["nats"]).verification.ok


@pytest.mark.postgres
def test_many_credentials_are_checked_without_a_statement_per_row(
    legacy, nats, django_assert_max_num_queries
):
    """Checks stream through a server-side cursor; results are written set-based."""
    account = nats.account()
    token = user_jwt(Keys.user().public_key, account.keys)  # one JWT: the sub mismatches
    legacy.execute(
        f"INSERT INTO {legacy.table('users')} (id, email, password_hash)"
        " SELECT g, 'u' || g || '@example.com', '' FROM generate_series(1, 700) g"
    )
    legacy.execute(
        f"INSERT INTO {legacy.table('nats_user_credential')}"
        " (user_id, account_id, jwt, seed_hash, public_key, account_public_key, expires_at)"
        " SELECT g, %s, %s, 'h', 'U' || g, %s, %s FROM generate_series(1, 700) g",
        [account.id, token, account.keys.public_key, LATER],
    )
    copy(sources=["auth_service"])

    # The engine's own bookkeeping is ~100 statements; a query per row would be 700 more.
    with django_assert_max_num_queries(160):
        copy(sources=["nats"])

    assert User.objects.filter(nats_problems__contains="user_key_invalid").count() == 700
    assert RowIssue.objects.filter(reason="jwt_subject_mismatch").count() == 700


def test_a_credential_deleted_in_the_old_table_leaves_its_user(legacy, nats):
    uid = legacy.user("ann@example.com")
    cred = nats.credential(uid, nats.account())
    copy()
    legacy.execute(f"DELETE FROM {legacy.table('nats_user_credential')} WHERE id = %s", [cred.id])
    problems = {(p.legacy_id, p.problem) for p in verify_legacy(apps).verification.problems}
    assert (str(cred.id), "legacy_row_missing") in problems

    report = copy()

    user = User.objects.get()
    assert (user.nats_jwt, user.nats_legacy_id, user.nats_account) == (None, None, None)
    assert any("whose rows are gone from nats_user_credential" in note for note in report.notes)
    assert verify_legacy(apps).verification.ok


def test_a_drifted_credential_table_without_optional_columns(legacy, nats):
    """No account_id, expires_at or expired_at: the account is found by key, exp unchecked."""
    table = legacy.table("nats_user_credential")
    cascade = " CASCADE" if legacy.vendor == "postgresql" else ""
    legacy.execute(f"DROP TABLE {table}{cascade}")
    stamp = "timestamptz" if legacy.vendor == "postgresql" else "datetime"
    legacy.execute(
        f"CREATE TABLE {table} (id integer PRIMARY KEY, user_id integer NOT NULL,"
        f" jwt text NOT NULL, seed_hash varchar(128) NOT NULL, public_key varchar(56) NOT NULL,"
        f" account_public_key varchar(56) NOT NULL, created_at {stamp} NOT NULL)"
    )
    uid = legacy.user("ann@example.com")
    account = nats.account()
    keys = Keys.user()
    legacy.insert(
        "nats_user_credential",
        id=1,
        user_id=uid,
        jwt=user_jwt(keys.public_key, account.keys),
        seed_hash=keys.seed_hash,
        public_key=keys.public_key,
        account_public_key=account.keys.public_key,
    )

    copy()

    user = User.objects.get()
    assert (user.nats_legacy_id, user.nats_problems) == ("1", "")
    assert user.nats_account.public_key == account.keys.public_key
    assert user.nats_expires_at is None
    assert verify_legacy(apps).verification.ok
