"""The admin: the inspection tool for the migration. It shows, never leaks, never writes."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import bcrypt
import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    ApiKey,
    LoginSession,
    Membership,
    Profile,
    Tenant,
    User,
    UserOrigin,
)
from legacy.models import (
    AuthClient,
    AuthUser,
    AuthUserApiKey,
    Conflict,
    CopyRun,
    FastapiUser,
    NatsAccount,
    NatsAuthSession,
    NatsUserCredential,
    RowIssue,
    SharedUser,
    SharedUserApiKey,
    SharedUserProfile,
    SharedUserSession,
)

LEGACY_MODELS: list[type[models.Model]] = [
    AuthClient,
    AuthUser,
    AuthUserApiKey,
    SharedUser,
    SharedUserApiKey,
    SharedUserProfile,
    SharedUserSession,
    FastapiUser,
    NatsAccount,
    NatsUserCredential,
    NatsAuthSession,
]

pytestmark = pytest.mark.django_db


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def bcrypt_hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def url(model: type[models.Model], view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table_exists(model: type[models.Model]) -> bool:
    with connection.cursor() as cursor:
        return model._meta.db_table in connection.introspection.table_names(cursor)


def drop_tables(*tables: str) -> None:
    """Drop tables inside the test's transaction (they come back when it rolls back)."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {quote(table)}")


def create_tables(*legacy_models: type[models.Model]) -> None:
    """Create unmanaged legacy tables with the schema editor, inside the test's transaction.

    SQLite's editor refuses to open inside a transaction, so its DDL is collected and run
    here (on both databases, to keep one path).
    """
    drop_tables(*(model._meta.db_table for model in reversed(legacy_models)))
    editor = connection.schema_editor(collect_sql=True)
    editor.deferred_sql = []  # what entering the editor would have set up
    for model in legacy_models:
        editor.create_model(model)
    with connection.cursor() as cursor:
        for statement in [*editor.collected_sql, *map(str, editor.deferred_sql)]:
            cursor.execute(statement)


def create_drifted_users_table() -> None:
    """Seed 001's ``users``: no optional columns, the password column renamed."""
    drop_tables(AuthUser._meta.db_table)
    stamp = "timestamptz" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE TABLE {quote(AuthUser._meta.db_table)} (
                id integer PRIMARY KEY,
                email varchar(255) NOT NULL UNIQUE,
                hashed_password varchar(255) NOT NULL,
                role varchar(50) NOT NULL,
                is_active boolean NOT NULL,
                created_at {stamp} NOT NULL
            )"""
        )


def insert_drifted_user(pk: int, email: str, hashed_password: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AuthUser._meta.db_table)}"
            " (id, email, hashed_password, role, is_active, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                pk,
                email,
                hashed_password,
                "member",
                True,
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )


@pytest.fixture
def legacy_rows() -> dict[str, Any]:
    """Every legacy table, one row each (linked up), and the secrets they hold."""
    create_tables(*LEGACY_MODELS)
    now = timezone.now()
    secrets = {
        "auth_password": bcrypt_hash("auth-pw"),
        "shared_password": bcrypt_hash("shared-pw"),
        "fastapi_password": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        "auth_key": sha256_hex("auth-token"),
        "shared_key": sha256_hex("shared-token"),
        "session": sha256_hex("session-token"),
        "seed": sha256_hex("SUAseed") + sha256_hex("more"),
    }
    client = AuthClient.objects.create(
        id=uuid.uuid4(), name="Tenant", slug="tenant", created_at=now
    )
    auth_user = AuthUser.objects.create(
        email="ann@example.com",
        password_hash=secrets["auth_password"],
        full_name="Ann",
        username="ann",
        role="member",
        client=client,
        created_at=now,
    )
    AuthUserApiKey.objects.create(
        user=auth_user,
        name="ci",
        key_prefix="abcdefgh",
        key_hash=secrets["auth_key"],
        created_at=now,
    )
    shared_user = SharedUser.objects.create(
        id=uuid.uuid4(),
        email="bob@example.com",
        hashed_password=secrets["shared_password"],
        created_at=now,
    )
    SharedUserApiKey.objects.create(
        id=uuid.uuid4(),
        user=shared_user,
        name="deploy",
        prefix="zyxwvuts",
        key_hash=secrets["shared_key"],
        created_at=now,
    )
    SharedUserProfile.objects.create(
        id=uuid.uuid4(), user=shared_user, timezone="UTC", preferences={"theme": "dark"}
    )
    SharedUserSession.objects.create(
        id=uuid.uuid4(),
        user=shared_user,
        token_hash=secrets["session"],
        ip_address="192.0.2.1",
        created_at=now,
        expires_at=now,
    )
    FastapiUser.objects.create(
        id=uuid.uuid4(), email="cy@example.com", hashed_password=secrets["fastapi_password"]
    )
    account = NatsAccount.objects.create(name="acme", public_key="A" * 56, created_at=now)
    credential = NatsUserCredential.objects.create(
        user=auth_user,
        account=account,
        jwt="eyJ.user.jwt",
        seed_hash=secrets["seed"],
        public_key="U" * 56,
        account_public_key="A" * 56,
        created_at=now,
    )
    NatsAuthSession.objects.create(
        user=auth_user, credential=credential, account=account, created_at=now
    )
    return secrets


def assert_no_secret(html: str, secrets: dict[str, str]) -> None:
    for name, secret in secrets.items():
        assert secret not in html, f"{name} leaked"


# ---- the index and the consolidated users -----------------------------------------------


def test_index_renders(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    html = response.content.decode()
    assert url(User, "changelist") in html
    assert url(AuthUser, "changelist") in html
    assert url(CopyRun, "changelist") in html


def test_user_search_ignores_case(admin_client):
    User.objects.create_user("Ann.Example@Example.com", "pw")
    User.objects.create_user("bob@example.com", "pw")

    response = admin_client.get(url(User, "changelist"), {"q": "ann.example@EXAMPLE.COM"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ann.Example@Example.com" in html
    assert "bob@example.com" not in html


def test_user_page_masks_api_key_digest_and_password(admin_client):
    user = User.objects.create_user("ann@example.com", "correct horse")
    digest = sha256_hex("the-token")
    ApiKey.objects.create(user=user, name="ci", prefix="tok_abcd", digest=digest)
    UserOrigin.objects.create(
        user=user,
        source="users",
        legacy_id="7",
        legacy_email="Ann@Example.com",
        copied_at=timezone.now(),
    )

    response = admin_client.get(url(User, "change", user.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"{digest[:8]}…" in html
    assert digest not in html
    assert digest[:9] not in html
    assert user.password not in html
    assert user.password.split("$")[-1] not in html
    assert "Ann@Example.com" in html  # the origin inline
    assert "tok_abcd" in html


def test_user_page_masks_a_copied_legacy_hash(admin_client):
    legacy_hash = bcrypt_hash("pw")
    user = User.objects.create_user("ann@example.com")
    User.objects.filter(pk=user.pk).update(password="legacy_bcrypt$" + legacy_hash)

    response = admin_client.get(url(User, "change", user.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "legacy_bcrypt" in html
    assert legacy_hash not in html
    assert legacy_hash[7:] not in html  # salt + digest


def test_user_add_refuses_an_email_differing_only_in_case(admin_client):
    User.objects.create_user("ann@example.com", "pw")

    response = admin_client.post(
        url(User, "add"),
        {
            "email": "ANN@example.com",
            "usable_password": "true",
            "password1": "a-long-Passw0rd!",
            "password2": "a-long-Passw0rd!",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 2  # the admin and ann


def test_user_add_creates_a_user(admin_client):
    response = admin_client.post(
        url(User, "add"),
        {
            "email": "new@example.com",
            "usable_password": "true",
            "password1": "a-long-Passw0rd!",
            "password2": "a-long-Passw0rd!",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").check_password("a-long-Passw0rd!")


def test_api_key_admin_masks_digest_and_has_no_add(admin_client):
    user = User.objects.create_user("ann@example.com", "pw")
    digest = sha256_hex("the-token")
    key = ApiKey.objects.create(user=user, name="ci", prefix="tok_abcd", digest=digest)

    changelist = admin_client.get(url(ApiKey, "changelist"))
    change = admin_client.get(url(ApiKey, "change", key.pk))

    for response in (changelist, change):
        html = response.content.decode()
        assert response.status_code == 200
        assert f"{digest[:8]}…" in html
        assert digest not in html
    assert admin_client.get(url(ApiKey, "add")).status_code == 403


def test_user_origin_admin_is_read_only(admin_client):
    user = User.objects.create_user("ann@example.com", "pw")
    origin = UserOrigin.objects.create(
        user=user, source="users", legacy_id="7", legacy_email="ann@x", copied_at=timezone.now()
    )

    assert admin_client.get(url(UserOrigin, "changelist")).status_code == 200
    change = admin_client.get(url(UserOrigin, "change", origin.pk))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert admin_client.post(url(UserOrigin, "change", origin.pk), {}).status_code == 403
    assert admin_client.get(url(UserOrigin, "delete", origin.pk)).status_code == 403


def changelist_queries(client, model: type[models.Model]) -> int:
    """How many queries one changelist page runs."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url(model, "changelist")).status_code == 200
    return len(captured)


def a_person(n: int, tenant: Tenant) -> User:
    """A user with one of everything the user list and the other lists show."""
    now = timezone.now()
    user = User.objects.create_user(
        f"u{n}@example.com", "pw", legacy_source="users", legacy_id=str(n)
    )
    for source, legacy_id in (("users", str(n)), ("user", f"s{n}")):
        UserOrigin.objects.create(
            user=user, source=source, legacy_id=legacy_id, legacy_email="a", copied_at=now
        )
    ApiKey.objects.create(user=user, name="a", prefix="a", digest=sha256_hex(f"key{n}"))
    Profile.objects.create(user=user, timezone="UTC")
    LoginSession.objects.create(user=user, token_digest=sha256_hex(f"s{n}"), expires_at=now)
    Membership.objects.create(user=user, tenant=tenant, role="member")
    Conflict.objects.create(
        user=user,
        field="full_name",
        source="user",
        legacy_id=f"s{n}",
        winner_source="users",
        winner_legacy_id=str(n),
        rule="r",
        detected_at=now,
    )
    RowIssue.objects.create(
        source="users", legacy_id=f"x{n}", kind="rejected", reason="r", first_seen_at=now
    )
    return user


CONSOLIDATED_LISTS = (
    User,
    ApiKey,
    UserOrigin,
    Profile,
    LoginSession,
    Tenant,
    Membership,
    Conflict,
    RowIssue,
    CopyRun,
)


def test_changelists_run_no_query_per_row(admin_client):
    """The user list (and every other list) runs as many queries for 1 row as for 5."""
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    a_person(1, tenant)
    CopyRun.objects.create(started_at=timezone.now(), trigger="command")
    one = {model: changelist_queries(admin_client, model) for model in CONSOLIDATED_LISTS}

    for n in range(2, 6):
        a_person(n, Tenant.objects.create(name=f"T{n}", slug=f"t{n}"))
        CopyRun.objects.create(started_at=timezone.now(), trigger="command")
    for model, queries in one.items():
        assert changelist_queries(admin_client, model) == queries, model


def test_user_list_shows_origins_and_counts(admin_client):
    user = a_person(1, Tenant.objects.create(name="Acme", slug="acme"))
    ApiKey.objects.create(user=user, name="b", prefix="b", digest=sha256_hex("second"))

    html = admin_client.get(url(User, "changelist")).content.decode()
    merged = admin_client.get(url(User, "changelist"), {"origin": "merged"}).content.decode()
    native = admin_client.get(url(User, "changelist"), {"origin": "authcore"}).content.decode()
    conflicts = admin_client.get(url(User, "changelist"), {"origin": "conflicts"})

    assert '<td class="field-legacy_rows">users, user</td>' in html
    assert '<td class="field-api_key_count">2</td>' in html
    assert '<td class="field-conflict_count">1</td>' in html
    assert "u1@example.com" in merged and "u1@example.com" not in native
    assert "u1@example.com" in conflicts.content.decode()


def test_session_admin_masks_the_token_digest_and_is_view_only(admin_client):
    user = User.objects.create_user("ann@example.com", "pw")
    digest = sha256_hex("session-token")
    session = LoginSession.objects.create(
        user=user, token_digest=digest, ip_address="2001:db8::1", expires_at=timezone.now()
    )

    for response in (
        admin_client.get(url(LoginSession, "changelist")),
        admin_client.get(url(LoginSession, "change", session.pk)),
        admin_client.get(url(User, "change", user.pk)),
    ):
        html = response.content.decode()
        assert response.status_code == 200
        assert f"{digest[:8]}…" in html
        assert digest not in html
        assert digest[:9] not in html
    assert (
        'name="_save"'
        not in admin_client.get(url(LoginSession, "change", session.pk)).content.decode()
    )
    assert admin_client.get(url(LoginSession, "add")).status_code == 403
    assert (
        admin_client.post(url(LoginSession, "delete", session.pk), {"post": "yes"}).status_code
        == 403
    )
    expired = admin_client.get(url(LoginSession, "changelist"), {"state": "expired"})
    assert "2001:db8::1" in expired.content.decode()


@pytest.mark.parametrize("model", [Profile, Tenant, Membership], ids=lambda m: m.__name__)
def test_rows_the_copy_made_are_view_only_and_others_editable(admin_client, model):
    user = User.objects.create_user("ann@example.com", "pw")
    other = User.objects.create_user("bob@example.com", "pw")
    copied_tenant = Tenant.objects.create(
        name="Copied", slug="copied", legacy_source="clients", legacy_id="c1"
    )
    native_tenant = Tenant.objects.create(name="Native", slug="native")
    rows = {
        Profile: (
            lambda: Profile.objects.create(user=user, legacy_source="user_profile", legacy_id="p"),
            lambda: Profile.objects.create(user=other),
        ),
        Tenant: (lambda: copied_tenant, lambda: native_tenant),
        Membership: (
            lambda: Membership.objects.create(
                user=user, tenant=copied_tenant, legacy_source="users", legacy_id="7"
            ),
            lambda: Membership.objects.create(user=other, tenant=native_tenant),
        ),
    }[model]
    copied, native = rows[0](), rows[1]()

    copied_page = admin_client.get(url(model, "change", copied.pk)).content.decode()
    native_page = admin_client.get(url(model, "change", native.pk)).content.decode()
    listing = admin_client.get(url(model, "changelist")).content.decode()

    assert 'name="_save"' not in copied_page
    assert url(model, "delete", copied.pk) not in copied_page
    assert admin_client.post(url(model, "change", copied.pk), {}).status_code == 403
    assert admin_client.post(url(model, "delete", copied.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=copied.pk).exists()
    assert 'name="_save"' in native_page
    assert url(model, "delete", native.pk) in native_page
    assert 'value="delete_selected"' not in listing  # bulk delete would take copied rows


def test_tenant_page_lists_members_and_adds_new_ones(admin_client):
    user = User.objects.create_user("ann@example.com", "pw")
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    Membership.objects.create(user=user, tenant=tenant, role="owner")

    listing = admin_client.get(url(Tenant, "changelist")).content.decode()
    page = admin_client.get(url(Tenant, "change", tenant.pk)).content.decode()
    added = admin_client.post(
        url(Tenant, "add"),
        {
            "name": "New",
            "slug": "new",
            "is_active": "on",
            "created_at_0": "2025-01-01",
            "created_at_1": "00:00:00",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": str(user.pk),
            "memberships-0-role": "member",
        },
    )

    assert '<td class="field-member_count">1</td>' in listing
    assert "ann@example.com" in page
    assert added.status_code == 302, added.content.decode()[:2000]
    assert Membership.objects.get(tenant__slug="new").user == user


def test_membership_and_profile_lists_search_and_filter(admin_client):
    user = User.objects.create_user("ann@example.com", "pw")
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    Membership.objects.create(
        user=user, tenant=tenant, role="owner", legacy_source="users", legacy_id="1"
    )
    Profile.objects.create(user=user, locale="de-CH", phone="+41 1")

    by_tenant = admin_client.get(url(Membership, "changelist"), {"q": "acme"}).content.decode()
    by_role = admin_client.get(url(Membership, "changelist"), {"role": "owner"}).content.decode()
    profiles = admin_client.get(url(Profile, "changelist"), {"q": "ANN@"}).content.decode()

    assert "ann@example.com" in by_tenant and "ann@example.com" in by_role
    assert "de-CH" in profiles
    assert f'href="{url(AuthUser, "change", "1")}"' in by_tenant  # copied from users#1


# ---- the legacy tables ------------------------------------------------------------------


@pytest.mark.parametrize("model", LEGACY_MODELS, ids=lambda m: m.__name__)
def test_legacy_changelist_without_the_table(admin_client, model):
    drop_tables(model._meta.db_table)

    response = admin_client.get(url(model, "changelist"))

    assert response.status_code == 200
    assert "has no table" in response.content.decode()
    # A detail page of a table that does not exist: back to the index, not a server error.
    assert admin_client.get(url(model, "change", 1)).status_code == 302


def test_index_renders_without_any_legacy_table(admin_client):
    drop_tables(*(model._meta.db_table for model in reversed(LEGACY_MODELS)))

    assert admin_client.get(reverse("admin:index")).status_code == 200
    assert admin_client.get(reverse("admin:app_list", args=["legacy"])).status_code == 200


@pytest.mark.parametrize("model", LEGACY_MODELS, ids=lambda m: m.__name__)
def test_legacy_pages_render_without_secrets(admin_client, legacy_rows, model):
    obj = model.objects.get()

    changelist = admin_client.get(url(model, "changelist"))
    change = admin_client.get(url(model, "change", obj.pk))

    for response in (changelist, change):
        html = response.content.decode()
        assert response.status_code == 200
        assert_no_secret(html, legacy_rows)
        assert 'name="_save"' not in html
        assert 'name="_continue"' not in html
    assert 'class="action-checkbox' not in changelist.content.decode()
    assert url(model, "add") not in changelist.content.decode()
    assert url(model, "delete", obj.pk) not in change.content.decode()


def test_legacy_pages_show_masked_digests_and_hash_formats(admin_client, legacy_rows):
    keys = admin_client.get(url(AuthUserApiKey, "changelist")).content.decode()
    users = admin_client.get(url(AuthUser, "changelist")).content.decode()
    fastapi = admin_client.get(url(FastapiUser, "changelist")).content.decode()
    session = admin_client.get(
        url(SharedUserSession, "change", SharedUserSession.objects.get().pk)
    ).content.decode()

    assert f"{legacy_rows['auth_key'][:8]}…" in keys
    assert "ann@example.com" in keys  # the key's user, through the join
    assert ">bcrypt<" in users
    assert ">argon2<" in fastapi
    assert f"{legacy_rows['session'][:8]}…" in session


@pytest.mark.parametrize("model", LEGACY_MODELS, ids=lambda m: m.__name__)
def test_legacy_pages_refuse_every_write(admin_client, legacy_rows, model):
    obj = model.objects.get()
    before = model.objects.count()

    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "add"), {}).status_code == 403
    assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403
    assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.count() == before


def test_legacy_changelist_runs_no_query_per_row(admin_client, legacy_rows):
    auth_user = AuthUser.objects.get()
    account = NatsAccount.objects.get()
    credential = NatsUserCredential.objects.get()
    queries = changelist_queries(admin_client, NatsAuthSession)

    for _ in range(4):
        NatsAuthSession.objects.create(
            user=auth_user, credential=credential, account=account, created_at=timezone.now()
        )

    assert changelist_queries(admin_client, NatsAuthSession) == queries


def test_legacy_search_finds_email_ignoring_case(admin_client, legacy_rows):
    response = admin_client.get(url(AuthUserApiKey, "changelist"), {"q": "ANN@EXAMPLE"})

    assert response.status_code == 200
    assert f"{legacy_rows['auth_key'][:8]}…" in response.content.decode()


def test_drifted_users_table(admin_client):
    create_drifted_users_table()
    create_tables(AuthUserApiKey)
    password = bcrypt_hash("pw")
    insert_drifted_user(7, "Ann@Example.com", password)
    AuthUserApiKey.objects.create(
        user_id=7,
        name="ci",
        key_prefix="abcdefgh",
        key_hash=sha256_hex("t"),
        created_at=timezone.now(),
    )

    changelist = admin_client.get(url(AuthUser, "changelist"))
    search = admin_client.get(url(AuthUser, "changelist"), {"q": "ann@example.com"})
    sorted_by_email = admin_client.get(url(AuthUser, "changelist"), {"o": "2"})
    change = admin_client.get(url(AuthUser, "change", 7))
    keys = admin_client.get(url(AuthUserApiKey, "changelist"))

    for response in (changelist, search, sorted_by_email, change, keys):
        assert response.status_code == 200
        assert password not in response.content.decode()
    for response in (changelist, search, change):
        html = response.content.decode()
        assert "Ann@Example.com" in html
        assert "bcrypt" in html
    assert "column-username" not in changelist.content.decode()
    assert "column-last_login_at" not in changelist.content.decode()
    assert "Ann@Example.com" in keys.content.decode()


def test_users_table_without_any_password_column(admin_client):
    create_drifted_users_table()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quote(AuthUser._meta.db_table)} DROP COLUMN hashed_password")
        cursor.execute(
            f"INSERT INTO {quote(AuthUser._meta.db_table)}"
            " (id, email, role, is_active, created_at) VALUES (%s, %s, %s, %s, %s)",
            [
                1,
                "ann@example.com",
                "member",
                True,
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )

    assert admin_client.get(url(AuthUser, "changelist")).status_code == 200
    assert admin_client.get(url(AuthUser, "change", 1)).status_code == 200


def test_api_keys_whose_users_table_is_missing(admin_client):
    create_tables(AuthUserApiKey)
    drop_tables(AuthUser._meta.db_table)
    key = AuthUserApiKey.objects.create(
        user_id=42,
        name="ci",
        key_prefix="abc",
        key_hash=sha256_hex("t"),
        created_at=timezone.now(),
    )

    changelist = admin_client.get(url(AuthUserApiKey, "changelist"))
    change = admin_client.get(url(AuthUserApiKey, "change", key.pk))

    assert changelist.status_code == 200
    assert change.status_code == 200
    assert ">42<" in changelist.content.decode()


def test_api_keys_pointing_at_no_user_are_listed(admin_client, legacy_rows):
    """Legacy keys are not guaranteed (deployments without foreign keys): no row is hidden."""
    AuthUserApiKey.objects.create(
        user_id=4242,
        name="orphan",
        key_prefix="orphanpf",
        key_hash=sha256_hex("orphan"),
        created_at=timezone.now(),
    )

    html = admin_client.get(url(AuthUserApiKey, "changelist")).content.decode()

    assert "orphanpf" in html
    assert ">4242<" in html
    assert "ann@example.com" in html  # the other key still shows its user


def test_staff_with_view_permission_sees_legacy_pages(client, legacy_rows):
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user("staff@example.com", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_authuser"))
    client.force_login(staff)
    obj = AuthUser.objects.get()

    assert client.get(url(AuthUser, "changelist")).status_code == 200
    assert client.get(url(AuthUser, "change", obj.pk)).status_code == 200
    assert client.get(url(FastapiUser, "changelist")).status_code == 403


@pytest.mark.postgres
def test_legacy_pages_on_the_real_postgresql_ddl(admin_client, legacy):
    """The tables as legacy-schema.md writes them (uuid, inet, jsonb, a table named "user")."""
    user_id = legacy.user("ann@example.com", "pw")
    legacy.api_key(user_id, "the-token")
    shared_id = legacy.insert("user", email="bob@example.com", hashed_password=None)
    legacy.insert("user_profile", user_id=shared_id, preferences={"a": 1})
    legacy.insert(
        "user_session",
        user_id=shared_id,
        token_hash=sha256_hex("s"),
        ip_address="192.0.2.1",
        expires_at=timezone.now(),
    )

    for model in LEGACY_MODELS:
        response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200, model
        for obj in model.objects.all()[:1]:
            change = admin_client.get(url(model, "change", obj.pk))
            assert change.status_code == 200, model
            assert sha256_hex("the-token") not in change.content.decode()


# ---- the copy's bookkeeping ---------------------------------------------------------------


def test_bookkeeping_pages_render_and_are_read_only(admin_client):
    user = User.objects.create_user("ann@example.com", "pw")
    now = timezone.now()
    run = CopyRun.objects.create(
        started_at=now, trigger="command", sources=["users"], report={"users": {"copied": 1}}
    )
    issue = RowIssue.objects.create(
        source="users",
        legacy_id="9",
        kind=RowIssue.Kind.REJECTED,
        reason="bad_email",
        detail="no @",
        first_seen_at=now,
        run=run,
    )
    conflict = Conflict.objects.create(
        user=user,
        field="full_name",
        source="user",
        legacy_id="x",
        winner_source="users",
        winner_legacy_id="1",
        kept_value="Ann",
        other_value="Annie",
        rule="newest wins",
        detected_at=now,
        run=run,
    )

    for model, obj, shown in (
        (CopyRun, run, "command"),
        (RowIssue, issue, "bad_email"),
        (Conflict, conflict, "Annie"),
    ):
        changelist = admin_client.get(url(model, "changelist"))
        assert changelist.status_code == 200
        assert shown in changelist.content.decode()
        change = admin_client.get(url(model, "change", obj.pk))
        assert change.status_code == 200
        assert 'name="_save"' not in change.content.decode()
        assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403
        assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
        assert admin_client.get(url(model, "add")).status_code == 403
    filtered = admin_client.get(url(RowIssue, "changelist"), {"kind__exact": "rejected"})
    assert filtered.status_code == 200
