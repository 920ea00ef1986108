import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NatsAccount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "public_key",
                    models.CharField(
                        help_text="The account's nkey (starts with A).", max_length=56, unique=True
                    ),
                ),
                (
                    "jwt",
                    models.TextField(blank=True, help_text="The account JWT, if any.", null=True),
                ),
                (
                    "signing_key_public",
                    models.CharField(
                        blank=True,
                        help_text="Public key of the account's signing key; it may issue user JWTs too.",
                        max_length=56,
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("legacy_source", models.CharField(blank=True, max_length=64, null=True)),
                ("legacy_id", models.CharField(blank=True, max_length=64, null=True)),
            ],
            options={
                "verbose_name": "NATS account",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("legacy_source", "legacy_id"),
                        name="natscreds_account_legacy_unique",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="NatsAuthSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("client_id", models.CharField(blank=True, max_length=100, null=True)),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("legacy_source", models.CharField(blank=True, max_length=64, null=True)),
                ("legacy_id", models.CharField(blank=True, max_length=64, null=True)),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="sessions",
                        to="natscreds.natsaccount",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="nats_sessions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "NATS auth session",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("legacy_source", "legacy_id"),
                        name="natscreds_session_legacy_unique",
                    )
                ],
            },
        ),
    ]
