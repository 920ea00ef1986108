"""A merge never hands one person's account to another.

An address proves who someone is only if the old service confirmed it. A merged row
whose address was never proven gives the user nothing that lets anyone in: its password
is not taken, its keys and sessions are held, its profile, memberships and NATS
credentials are not attached, each recorded as a hold for a person to decide.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core import checks
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, LoginSession, Membership, Profile, User
from legacy import review
from legacy.engine import copy_legacy, reverse_legacy, verify_legacy
from legacy.models import Conflict, Hold
from natscreds.models import NatsAuthSession
from tests.conftest import sha256_hex
from tests.test_copy_every_source import fu_user, shared_user
from tests.test_nats_factory import NatsRows

SQUATTER_PASSWORD = "chosen-by-someone-else"


def logs_in(email: str, password: str) -> bool:
    return authenticate(email=email, password=password) is not None


def api_login(email: str, password: str) -> int:
    response = APIClient().post(
        "/api/auth/login", {"email": email, "password": password}, format="json"
    )
    return response.status_code


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def client_row(legacy, slug: str):
    return legacy.insert("clients", id=uuid.uuid4(), name=slug.title(), slug=slug)


@pytest.fixture
def squatted(legacy):
    """victim@corp.test owns tenant victim-corp, with no password in the auth service; a
    later row VICTIM@corp.test (someone else) has a password, a key and another tenant."""
    victim_corp, other_corp = client_row(legacy, "victim-corp"), client_row(legacy, "other-corp")
    victim = legacy.user("victim@corp.test", password="", role="owner", client_id=victim_corp)
    squatter = legacy.user(
        "VICTIM@corp.test", SQUATTER_PASSWORD, role="owner", client_id=other_corp
    )
    legacy.api_key(victim, "victims-token")
    legacy.api_key(squatter, "squatters-token")
    return victim, squatter


def test_a_case_variant_row_gets_no_password_no_key_and_no_tenant(squatted):
    victim, squatter = squatted

    copy_legacy(apps)

    user = User.objects.get()
    assert user.legacy_id == str(victim)  # the lower id wins, as before
    assert not user.has_usable_password()  # the winning row had none, and keeps none
    assert not logs_in("victim@corp.test", SQUATTER_PASSWORD)
    assert api_login("victim@corp.test", SQUATTER_PASSWORD) == 401
    assert bearer("squatters-token").get("/api/me").status_code == 401
    assert bearer("victims-token").get("/api/me").status_code == 200
    assert ApiKey.objects.get(digest=sha256_hex("squatters-token")).held
    slugs = set(Membership.objects.values_list("tenant__slug", flat=True))
    assert slugs == {"victim-corp"}
    held = set(Hold.objects.values_list("kind", "source", "legacy_id", "owner_legacy_id"))
    assert ("api_key", "user_api_keys") in {h[:2] for h in held}
    assert ("membership", "users", str(squatter), str(squatter)) in held
    assert all(h.reason == "unproven_merged_row" and h.user == user for h in Hold.objects.all())


def test_the_squatters_tenant_answers_404_to_the_merged_user(squatted):
    copy_legacy(apps)
    user = User.objects.get()
    user.set_password("the-victims-own")
    user.save()
    tokens = (
        APIClient()
        .post(
            "/api/auth/login",
            {"email": "victim@corp.test", "password": "the-victims-own"},
            format="json",
        )
        .json()
    )
    client = bearer(tokens["access"])
    assert client.get("/api/tenants/victim-corp/users").status_code == 200
    assert client.get("/api/tenants/other-corp/users").status_code == 404


def test_a_squatter_who_wins_gets_nothing_of_the_real_person(legacy):
    """The squatter signed up first (lower id): their row is the account, and the real
    person's later row brings nothing onto it."""
    corp = client_row(legacy, "victim-corp")
    legacy.user("Victim@corp.test", SQUATTER_PASSWORD, role="member")
    victim = legacy.user("victim@corp.test", "victims-pw", role="owner", client_id=corp)
    legacy.api_key(victim, "victims-token")

    copy_legacy(apps)

    assert logs_in("victim@corp.test", SQUATTER_PASSWORD)  # the winning row's, as before
    assert not logs_in("victim@corp.test", "victims-pw")
    assert bearer("victims-token").get("/api/me").status_code == 401
    assert not Membership.objects.exists()
    # Roles only ever from the winning row.
    assert list(User.objects.get().groups.values_list("name", flat=True)) == ["member"]
    assert set(Hold.objects.values_list("kind", flat=True)) == {"api_key", "membership"}


def test_a_later_sign_up_in_another_source_is_held(legacy):
    """A shared-models row of the same address: its password, key, profile and session
    give the auth service's person nothing."""
    legacy.user("ann@example.com", password="")
    other = shared_user(legacy, "Ann@Example.com", "squatter-pw")
    legacy.insert("user_api_key", user_id=other, prefix="sq", key_hash=sha256_hex("sq-token"))
    legacy.insert("user_profile", user_id=other, bio="not Ann", timezone="Europe/Paris")
    legacy.insert(
        "user_session",
        user_id=other,
        token_hash=sha256_hex("sq-session"),
        expires_at=timezone.now() + timedelta(days=1),
    )

    copy_legacy(apps)

    assert not logs_in("ann@example.com", "squatter-pw")
    assert bearer("sq-token").get("/api/me").status_code == 401
    assert not Profile.objects.exists()
    session = LoginSession.objects.get()
    assert session.held and session.user.email == "ann@example.com"
    kinds = set(Hold.objects.values_list("kind", "source"))
    assert kinds == {
        ("api_key", "user_api_key"),
        ("profile", "user_profile"),
        ("session", "user_session"),
    }
    conflict = Conflict.objects.get(field="password")
    assert "no longer works" in conflict.rule


def test_an_unverified_fastapi_users_row_gives_no_password_a_verified_one_does(legacy):
    legacy.user("ann@example.com", password="")
    legacy.user("bob@example.com", password="")
    fu_user(legacy, "ANN@example.com", "ann-fu-pw", is_verified=False)
    fu_user(legacy, "BOB@example.com", "bob-fu-pw", is_verified=True)

    copy_legacy(apps)

    assert not logs_in("ann@example.com", "ann-fu-pw")
    assert logs_in("bob@example.com", "bob-fu-pw")
    assert verify_legacy(apps).verification.ok


def test_nats_credentials_and_sessions_of_an_unproven_row_are_held(legacy):
    nats = NatsRows(legacy)
    account = nats.account()
    ann = legacy.user("ann@example.com")
    other = legacy.user("ANN@example.com")
    mine = nats.credential(ann, account, created_at=timezone.now() - timedelta(days=2))
    nats.credential(other, account)  # newer: it would win if it were not held
    nats.session(other)

    copy_legacy(apps)

    user = User.objects.get()
    assert user.nats_legacy_id == str(mine.id)
    assert not NatsAuthSession.objects.exists()
    assert set(Hold.objects.values_list("kind", flat=True)) == {"nats_credential", "nats_session"}
    assert verify_legacy(apps).verification.ok


def test_verify_counts_held_rows_as_accounted_for(squatted):
    copy_legacy(apps)

    verification = verify_legacy(apps, sample_limit=10**9).verification

    assert verification.ok
    assert verification.held_counts["user_api_keys"] == 1
    assert {p.problem for p in verification.held} == {"held"}
    assert verification.as_dict()["held_counts"] == verification.held_counts


def test_the_report_says_how_many_merged_rows_are_held_and_what_to_do(squatted):
    report = copy_legacy(apps, dry_run=True)

    assert report.held_merged_rows == {"auth_service": 1}
    assert any("LEGACY_VERIFIED_SOURCES" in note for note in report.notes)
    assert not Hold.objects.exists()  # a dry run writes nothing


def test_declaring_the_source_verified_restores_the_merge(squatted, settings):
    settings.LEGACY_VERIFIED_SOURCES = ["auth_service"]

    copy_legacy(apps)

    assert logs_in("victim@corp.test", SQUATTER_PASSWORD)
    assert bearer("squatters-token").get("/api/me").status_code == 200
    assert not Hold.objects.exists()


def test_a_source_declared_verified_later_releases_what_nobody_dismissed(legacy, settings):
    legacy.user("ann@example.com")
    legacy.api_key(legacy.user("ANN@example.com"), "kept-held")
    legacy.api_key(legacy.user("Ann@Example.com"), "let-through")
    copy_legacy(apps)
    staff = User.objects.create_superuser("staff@example.com", "pw")
    kept = ApiKey.objects.get(digest=sha256_hex("kept-held"))
    review.dismiss([Hold.objects.filter(legacy_id=kept.legacy_id)], staff)

    settings.LEGACY_VERIFIED_SOURCES = ["auth_service"]
    report = copy_legacy(apps)

    assert bearer("let-through").get("/api/me").status_code == 200
    assert bearer("kept-held").get("/api/me").status_code == 401
    assert report.tables["user_api_keys"].released == 1
    assert Hold.objects.get(decision="dismissed").decided_by == staff


def test_release_makes_what_an_unheld_copy_makes_and_a_rerun_keeps_it(squatted):
    copy_legacy(apps)
    staff = User.objects.create_superuser("staff@example.com", "pw")
    key_hold = Hold.objects.get(kind="api_key")
    membership_hold = Hold.objects.get(kind="membership")
    ApiKey.objects.filter(digest=sha256_hex("squatters-token")).update(revoked_at=timezone.now())

    review.release(Hold.objects.filter(pk__in=[key_hold.pk, membership_hold.pk]), staff)

    key = ApiKey.objects.get(digest=sha256_hex("squatters-token"))
    assert not key.held and key.revoked_at is not None  # a revoked key stays revoked
    assert bearer("squatters-token").get("/api/me").status_code == 401
    slugs = set(Membership.objects.values_list("tenant__slug", flat=True))
    assert slugs == {"victim-corp", "other-corp"}
    copy_legacy(apps)
    copy_legacy(apps, sync=True)
    released = Hold.objects.get(pk=key_hold.pk)
    assert (released.decision, released.decided_by) == ("released", staff)
    assert verify_legacy(apps).verification.ok


def test_dismiss_keeps_it_held_through_every_later_run(squatted):
    copy_legacy(apps)
    staff = User.objects.create_superuser("staff@example.com", "pw")
    review.dismiss([Hold.objects.all()], staff)

    copy_legacy(apps)
    copy_legacy(apps, sync=True)

    assert set(Hold.objects.values_list("decision", flat=True)) == {"dismissed"}
    assert bearer("squatters-token").get("/api/me").status_code == 401
    assert set(Membership.objects.values_list("tenant__slug", flat=True)) <= {"victim-corp"}


def test_taking_the_legacy_role_grants_it_keeping_changes_nothing(legacy):
    legacy.user("ann@example.com", role="member")
    legacy.user("ANN@example.com", role="admin")
    legacy.user("bob@example.com", role="member")
    legacy.user("BOB@example.com", role="admin")
    copy_legacy(apps)
    staff = User.objects.create_superuser("staff@example.com", "pw")

    review.take_legacy_value(
        Conflict.objects.filter(field="role", user__email="ann@example.com"), staff
    )
    review.keep_authcore_value(
        Conflict.objects.filter(field="role", user__email="bob@example.com"), staff
    )
    copy_legacy(apps, sync=True)

    def roles(email):
        return set(User.objects.get(email=email).groups.values_list("name", flat=True))

    assert roles("ann@example.com") == {"member", "admin"}
    assert roles("bob@example.com") == {"member"}
    decisions = dict(Conflict.objects.filter(field="role").values_list("user__email", "decision"))
    assert decisions == {"ann@example.com": "legacy_taken", "bob@example.com": "kept"}


def test_the_reverse_removes_holds_and_their_decisions(squatted):
    copy_legacy(apps)
    staff = User.objects.create_superuser("staff@example.com", "pw")
    review.dismiss([Hold.objects.all()], staff)

    reverse_legacy(apps)

    assert not Hold.objects.exists()
    assert User.objects.get() == staff


@pytest.mark.parametrize("value", [["auth_servise"], ["nats"], ["auth_service", "fastapi"]])
def test_an_unknown_verified_source_is_a_configuration_error(settings, value):
    settings.LEGACY_VERIFIED_SOURCES = value

    errors = [m for m in checks.run_checks() if m.id == "legacy.E003"]

    assert len(errors) == 1 and "unknown source" in errors[0].msg


def test_known_verified_sources_pass_the_check(settings):
    settings.LEGACY_VERIFIED_SOURCES = ["auth_service", " fastapi_users", "shared_models"]
    assert not [m for m in checks.run_checks() if m.id == "legacy.E003"]


def test_the_command_reports_held_rows_in_text_and_json(squatted):
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("migrate_legacy_users", "--dry-run", stdout=out)
    assert "held for review" in out.getvalue() and "auth_service 1" in out.getvalue()
    call_command("migrate_legacy_users", stdout=StringIO())

    out = StringIO()
    call_command("migrate_legacy_users", "--verify", "-v", "2", stdout=out)
    assert "held for review, accounted for: user_api_keys 1, users 1" in out.getvalue()
    assert "user_api_keys#" in out.getvalue() and "unproven_merged_row" in out.getvalue()

    out = StringIO()
    call_command("migrate_legacy_users", "--json", stdout=out)
    assert json.loads(out.getvalue())["held_merged_rows"] == {"auth_service": 1}


def test_a_held_key_is_not_the_users_to_see_or_revoke(squatted):
    """The account's owner learns nothing of the other person's key, not even its name."""
    copy_legacy(apps)
    user = User.objects.get()
    user.set_password("the-victims-own")
    user.save()
    access = (
        APIClient()
        .post(
            "/api/auth/login",
            {"email": "victim@corp.test", "password": "the-victims-own"},
            format="json",
        )
        .json()["access"]
    )
    held = ApiKey.objects.get(held=True)

    listed = bearer(access).get("/api/keys").json()

    assert [key["prefix"] for key in listed] == ["victims-"]
    assert bearer(access).post(f"/api/keys/{held.pk}/revoke").status_code == 404
    assert ApiKey.objects.get(pk=held.pk).revoked_at is None


def test_a_sign_up_here_gets_nothing_of_a_legacy_row_of_its_address(legacy):
    """Someone signs up in authcore under an address first; the old service's row of that
    address, copied later, proves nothing about them: its key is held, its password unused."""
    squatter = User.objects.create_user("victim@corp.test", "squatters-own")
    victim = legacy.user("Victim@corp.test", "victims-pw")
    legacy.api_key(victim, "victims-token")

    copy_legacy(apps)

    assert User.objects.get() == squatter
    assert not logs_in("victim@corp.test", "victims-pw")
    assert bearer("victims-token").get("/api/me").status_code == 401
    assert Hold.objects.get().kind == "api_key"


def test_the_squatters_password_opens_no_login_route(squatted):
    """The other person's password, tried on every way in: the API, fastapi-users' form
    login, the admin's login page."""
    from django.test import Client

    copy_legacy(apps)

    assert api_login("victim@corp.test", SQUATTER_PASSWORD) == 401
    fu = APIClient().post(
        "/fu_auth/jwt/login", {"username": "victim@corp.test", "password": SQUATTER_PASSWORD}
    )
    assert fu.status_code == 400 and "access_token" not in fu.content.decode()
    admin = Client()
    admin.post("/admin/login/", {"username": "victim@corp.test", "password": SQUATTER_PASSWORD})
    assert "_auth_user_id" not in admin.session
