"""Fewer indexes for every copied row to maintain, none that a query needs.

- The digests of API keys and sessions were ``unique=True``, which on PostgreSQL also
  builds a ``varchar_pattern_ops`` index for LIKE; a random digest is only ever looked up
  whole. Unique constraints keep the uniqueness without that second index: at a million
  keys, each insert into it touched a random page.
- ``legacy_source`` alone: the ``(legacy_source, legacy_id)`` unique constraint leads with
  it and serves every lookup by source.
- The NATS columns of users are empty for most: partial indexes hold only filled ones.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_user_email_order_index"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("natscreds", "0002_copy_legacy_nats"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="user",
            name="accounts_user_source_idx",
        ),
        migrations.AlterField(
            model_name="apikey",
            name="digest",
            field=models.CharField(help_text="sha256 hex of the token.", max_length=64),
        ),
        migrations.AlterField(
            model_name="loginsession",
            name="token_digest",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="user",
            name="nats_account",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="users",
                to="natscreds.natsaccount",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="nats_legacy_id",
            field=models.CharField(
                blank=True,
                help_text="The nats_user_credential row these values came from (empty: none, or issued in authcore).",
                max_length=64,
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                condition=models.Q(("nats_account__isnull", False)),
                fields=["nats_account"],
                name="accounts_user_nats_account_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                condition=models.Q(("nats_legacy_id__isnull", False)),
                fields=["nats_legacy_id"],
                name="accounts_user_nats_legacy_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="apikey",
            constraint=models.UniqueConstraint(
                fields=("digest",), name="accounts_apikey_digest_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="loginsession",
            constraint=models.UniqueConstraint(
                fields=("token_digest",), name="accounts_session_token_digest_unique"
            ),
        ),
    ]
