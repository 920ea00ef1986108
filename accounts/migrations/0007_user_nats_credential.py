import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_copy_legacy_fastapi_users"),
        ("natscreds", "0001_nats_accounts_and_sessions"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="nats_account",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="users",
                to="natscreds.natsaccount",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_account_public_key",
            field=models.CharField(blank=True, max_length=56, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_expired_at",
            field=models.DateTimeField(
                blank=True, help_text="Set when the credential was retired.", null=True
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_jwt",
            field=models.TextField(blank=True, help_text="NATS user JWT.", null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_legacy_id",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="The nats_user_credential row these values came from (empty: none, or issued in authcore).",
                max_length=64,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_problems",
            field=models.TextField(
                blank=True,
                help_text="Verification flags of that credential, comma-separated; empty when it passed every check.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_public_key",
            field=models.CharField(
                blank=True, help_text="The user's nkey (starts with U).", max_length=56, null=True
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="nats_seed_hash",
            field=models.CharField(
                blank=True,
                help_text="Hash of the nkey seed, never the seed.",
                max_length=128,
                null=True,
            ),
        ),
    ]
