"""Nothing secret reaches the command's output, at any verbosity, or its JSON report.

Besides the values the test made, every value of every column of
authcore/lib/secret_fields.py is looked for, as the database holds them after the runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from passlib.hash import pbkdf2_sha256

from tests.conftest import bcrypt_hash, sha256_hex
from tests.secret_values import leaks, stored_secrets
from tests.test_nats_factory import NatsRows, tampered


def everything(*args: str, **options) -> str:
    out, err = StringIO(), StringIO()
    try:
        call_command("migrate_legacy_users", *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        err.write(str(exc))
    return out.getvalue() + err.getvalue()


def test_no_hash_token_digest_or_seed_hash_in_any_output(legacy):
    secrets: list[str] = []
    ann_hash, other_hash = bcrypt_hash("ann-pw"), bcrypt_hash("other-pw")
    shared_hash = pbkdf2_sha256.hash("shared-pw")
    secrets += [ann_hash, other_hash, shared_hash]
    ann = legacy.user("ann@example.com", None, password_hash=ann_hash)
    legacy.user("ANN@example.com", None, password_hash=other_hash)
    legacy.user("eve@example.com", None, password_hash="md5$weird$secretish-hash-value")
    secrets.append("secretish-hash-value")
    legacy.api_key(ann, "auth-service-token")
    shared = legacy.insert("user", email="Ann@example.com", hashed_password=shared_hash)
    legacy.insert(
        "user_session",
        user_id=shared,
        token_hash=sha256_hex("session-token"),
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    nats = NatsRows(legacy)
    account = nats.account("acme")
    good = nats.credential(ann, account)
    bob = legacy.user("bob@example.com", "pw")
    bad = nats.credential(bob, account, jwt=tampered(nats.credential(bob, account).jwt))
    secrets += [good.keys.seed_hash, bad.keys.seed_hash]
    for token in ("auth-service-token", "session-token"):
        secrets += [token, sha256_hex(token)]

    output = "".join(
        [
            everything("--dry-run", verbosity=3),
            everything(verbosity=3, debug=True),
            everything("--json", verbosity=3),
            everything("--sync", verbosity=3),
            everything("--verify", verbosity=3),
            everything("--verify", "--json"),
        ]
    )

    assert "conflict: user" in output and "password_unusable" in output  # rows were reported
    for secret in secrets:
        assert secret not in output, f"secret leaked: {secret[:12]}…"
        assert secret[-20:] not in output
    stored = stored_secrets()
    assert {"accounts.User.password", "legacy.NatsUserCredential.jwt"} <= {
        name.split("#")[0] for name in stored
    }
    assert not leaks(output, stored)
