"""Restoring the retired credential table trusts nothing in the backup folder.

The attacker can write to the folder. They plant SQL where the table's definition is
recorded (a column default, a statement where an index should be, a grantee) and rewrite
SHA256SUMS to match: refused by the manifest's HMAC. With the HMAC forged too (someone
holding SECRET_KEY), the description itself is refused: no SQL text from the folder runs.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from legacy.engine import copy_legacy
from natscreds import retire, table_catalog, tabledef
from natscreds.tabledef import DefinitionError
from tests.test_nats_factory import NatsRows

TABLE = "nats_user_credential"
ATTACK = "UPDATE accounts_user SET is_superuser = true"
LEGACY = ("users", "nats_account", "nats_auth_session", TABLE)


@pytest.fixture
def backup(legacy, tmp_path) -> Path:
    """A real backup of a real credential table, the table dropped, and a user to promote."""
    nats = NatsRows(legacy)
    ann = legacy.user("ann@example.com")
    account = nats.account(signing=True)
    nats.credential(ann, account, created_at=datetime.now(tz=UTC) - timedelta(days=2))
    nats.credential(ann, account, signer=account.signing)
    copy_legacy(apps)
    User.objects.create_user("mallory@example.com", "pw")
    call_command(
        "drop_legacy_nats_credentials",
        yes=True,
        backup_dir=tmp_path,
        stdout=StringIO(),
        stderr=StringIO(),
    )
    (directory,) = tmp_path.iterdir()
    return directory


def table_exists(name: str = TABLE) -> bool:
    with connection.cursor() as cursor:
        return name in connection.introspection.table_names(cursor)


def restore(directory: Path) -> str:
    out = StringIO()
    call_command("restore_legacy_nats_credentials", str(directory), stdout=out)
    return out.getvalue()


def refused(directory: Path) -> str:
    """Restore must fail with one line, exit code 1, and leave no table and no superuser."""
    with pytest.raises(CommandError) as failure:
        restore(directory)
    message = str(failure.value)
    assert failure.value.returncode == 1
    assert message.startswith("not restored: ") and "\n" not in message
    assert not User.objects.filter(is_superuser=True).exists()
    assert not table_exists()
    assert not table_exists("pwned")
    return message


def rewrite(directory: Path, manifest: dict, *, signed: bool) -> None:
    """Write ``manifest`` back and make SHA256SUMS match, as an attacker would; ``signed``
    also signs it with the installation's SECRET_KEY (the attacker holds it too)."""
    manifest_bytes = json.dumps(manifest, indent=2).encode() + b"\n"
    (directory / retire.MANIFEST).write_bytes(manifest_bytes)
    if signed:
        (directory / retire.SIGNATURE).write_text(retire.sign(manifest_bytes) + "\n")
    sums = directory / retire.SUMS
    lines = []
    for line in sums.read_text().splitlines():
        name = line.partition("  ")[2]
        lines.append(f"{hashlib.sha256((directory / name).read_bytes()).hexdigest()}  {name}\n")
    sums.write_text("".join(lines))


def described(manifest: dict) -> dict:
    """Where the manifest keeps the table's definition."""
    return manifest.get("definition", manifest)


def plant_default(d: dict) -> None:
    # created_at is the last column: this closes CREATE TABLE and runs two more statements.
    (column,) = [c for c in d["columns"] if c["name"] == "created_at"]
    column["default"] = f"now()); {ATTACK}; CREATE TABLE pwned (x int"


def plant_index(d: dict) -> None:
    d["indexes"] = [*d.get("indexes", []), ATTACK]


def plant_grantee(d: dict) -> None:
    d["grants"] = [{"grantee": f'"postgres"; {ATTACK}; --"', "privilege": "SELECT"}]


PLANTS = [
    pytest.param(plant_default, id="default"),
    pytest.param(plant_index, id="index"),
    pytest.param(plant_grantee, id="grantee", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize("plant", PLANTS)
def test_planted_sql_with_checksums_rewritten_is_refused_by_the_signature(backup, plant):
    manifest = json.loads((backup / retire.MANIFEST).read_text())
    plant(described(manifest))
    rewrite(backup, manifest, signed=False)

    assert "signature" in refused(backup)


@pytest.mark.parametrize("plant", PLANTS)
def test_planted_sql_is_refused_even_when_signed(backup, plant):
    manifest = json.loads((backup / retire.MANIFEST).read_text())
    plant(described(manifest))
    rewrite(backup, manifest, signed=True)

    assert "definition is refused" in refused(backup)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["columns"][0].update(type="integer); " + ATTACK + "; --"), "allow-list"),
        (lambda d: d["columns"][1].update(name='x" integer); ' + ATTACK + '; --"'), "identifier"),
        (lambda d: d["columns"][-1].update(default="(SELECT 1)"), "allow-list"),
        (lambda d: d["columns"][-1].update(default="'x'; " + ATTACK), "allow-list"),
        (lambda d: d["foreign_keys"][0].update(table="accounts_user"), "configured legacy"),
        (lambda d: d["foreign_keys"][0].update(columns=["no_such_column"]), "not a column"),
        (lambda d: d["foreign_keys"][0].update(on_delete="CASCADE; " + ATTACK), "ON DELETE"),
        (lambda d: d.update(indexes=[{"name": "i", "columns": ["id"], "unique": "yes"}]), "true"),
    ],
    ids=[
        "type",
        "column",
        "subquery-default",
        "quoted-default",
        "fk-table",
        "fk-column",
        "fk-action",
        "index-flag",
    ],
)
def test_a_signed_description_outside_the_rules_is_refused(backup, change, expected):
    manifest = json.loads((backup / retire.MANIFEST).read_text())
    d = described(manifest)
    if not d.get("foreign_keys"):  # SQLite's legacy tables are made without them
        d["foreign_keys"] = [
            {
                "name": None,
                "table": "users",
                "columns": ["user_id"],
                "other_columns": ["id"],
                "on_delete": "CASCADE",
                "on_update": "NO ACTION",
                "deferrable": False,
                "initially_deferred": False,
            }
        ]
    change(d)
    rewrite(backup, manifest, signed=True)

    assert expected in refused(backup)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["columns"][0].update(default="nextval('users_id_seq'::regclass)"),
            "another sequence",
        ),
        (lambda d: d["referencing"][0].update(table="accounts_user"), "configured legacy"),
        (lambda d: d.update(grants=[{"grantee": "PUBLIC", "privilege": "ALL"}]), "privilege"),
        (lambda d: d.update(owner="postgres; " + ATTACK), "identifier"),
        (lambda d: d["sequences"][0].update(name="s; " + ATTACK), "identifier"),
    ],
    ids=["foreign-sequence", "referencing-table", "privilege", "owner", "sequence"],
)
def test_a_signed_postgres_description_outside_the_rules_is_refused(backup, change, expected):
    manifest = json.loads((backup / retire.MANIFEST).read_text())
    change(described(manifest))
    rewrite(backup, manifest, signed=True)

    assert expected in refused(backup)


def test_a_changed_added_or_removed_file_is_refused(backup):
    rows = backup / retire.ROWS
    original = rows.read_bytes()

    rows.write_bytes(original.replace(b'"id": ', b'"id": 1', 1))
    assert "does not match its checksum in the signed manifest" in refused(backup)
    rows.write_bytes(original)

    (backup / "extra.sql").write_text(ATTACK)
    assert "extra.sql" in refused(backup)
    (backup / "extra.sql").unlink()

    sums = (backup / retire.SUMS).read_text()
    (backup / retire.SUMS).write_text(sums + f"{'0' * 64}  extra.sql\n")
    assert retire.SUMS in refused(backup)
    (backup / retire.SUMS).write_text(sums)

    signature = (backup / retire.SIGNATURE).read_text()
    (backup / retire.SIGNATURE).unlink()
    assert retire.SIGNATURE in refused(backup)
    (backup / retire.SIGNATURE).write_text(signature)

    manifest = (backup / retire.MANIFEST).read_bytes()
    (backup / retire.MANIFEST).write_bytes(manifest.replace(b'"rows": ', b'"rows":  ', 1))
    assert "signature" in refused(backup)
    (backup / retire.MANIFEST).write_bytes(manifest)

    assert "identical to the backup" in restore(backup)  # the untouched folder restores


def test_a_backup_made_with_another_secret_key_is_refused_unless_it_is_a_fallback(backup, settings):
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-after-rotation-0123456789"
    assert "another SECRET_KEY" in refused(backup)

    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert "identical to the backup" in restore(backup)


def test_the_drop_refuses_without_a_lasting_secret_key(legacy, tmp_path, settings):
    settings.SECRET_KEY_IS_RANDOM = True
    legacy.user("ann@example.com")
    copy_legacy(apps)
    with pytest.raises(CommandError, match="SECRET_KEY is not set"):
        call_command(
            "drop_legacy_nats_credentials", yes=True, backup_dir=tmp_path, stdout=StringIO()
        )
    assert table_exists() and not list(tmp_path.iterdir())


@pytest.mark.postgres
def test_the_drop_refuses_a_table_a_restore_could_not_re_create(legacy, tmp_path):
    legacy.user("ann@example.com")
    copy_legacy(apps)
    legacy.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT jwt_nonempty CHECK (jwt <> '')")

    with pytest.raises(CommandError, match="CHECK") as failure:
        call_command(
            "drop_legacy_nats_credentials", yes=True, backup_dir=tmp_path, stdout=StringIO()
        )

    assert "nothing dropped" in str(failure.value)
    assert table_exists() and not list(tmp_path.iterdir())


def test_the_definition_comes_back_as_it_was(backup, legacy):
    """What the catalog says after a restore is what it said before the drop."""
    restore(backup)

    again = json.loads(json.dumps(table_catalog.describe(connection, TABLE, LEGACY).as_json()))
    assert again == json.loads((backup / retire.MANIFEST).read_text())["definition"]


# ---- the rules, one by one --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now()", "now()"),
        ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"),
        ("true", "true"),
        ("42", "42"),
        ("'-1'::integer", "'-1'::integer"),
        ("(-1)", "(-1)"),
        ("'active'::character varying", "'active'::character varying"),
        ("'{}'::jsonb", "'{}'::jsonb"),
        ("NULL::text", "NULL::text"),
        (
            "nextval('nats_user_credential_id_seq'::regclass)",
            'nextval(\'"public"."nats_user_credential_id_seq"\'::regclass)',
        ),
    ],
)
def test_defaults_on_the_allow_list(text, expected):
    sequence = tabledef.Sequence("id", "public", "nats_user_credential_id_seq", 1, False)
    assert tabledef.default_sql(text, "postgresql", "c", sequence) == expected


@pytest.mark.parametrize(
    "text",
    [
        "(SELECT 1)",
        "pg_read_file('/etc/passwd')",
        "'a'';DROP TABLE users;--'",
        "'a\\'",
        "now(); " + ATTACK,
        "nextval('users_id_seq'::regclass)",
        "'x'::text; " + ATTACK,
        "1; " + ATTACK,
    ],
)
def test_defaults_off_the_allow_list(text):
    sequence = tabledef.Sequence("id", "public", "nats_user_credential_id_seq", 1, False)
    with pytest.raises(DefinitionError):
        tabledef.default_sql(text, "postgresql", "c", sequence)


@pytest.mark.parametrize("name", ['"x"', "a b", "a;b", "1a", "", "a" * 64, None, 3, "ä"])
def test_identifiers_must_be_plain(name):
    with pytest.raises(DefinitionError):
        tabledef.quote(name)
