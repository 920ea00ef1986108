"""The legacy tables as unmanaged models: no SQL, only so that migrations know them.

Table names come from settings (LEGACY_TABLE_<KEY>), like AUTH_USER_MODEL does, so a
deployment with other names gets historical models that point at its real tables.
Django writes no migrations for field changes on unmanaged models: a change to
legacy/models/tables.py must be made here by hand too.
"""

from django.db import migrations, models

from legacy.tables import configured_name


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AuthClient",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("slug", models.CharField(max_length=100, unique=True)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "auth service client",
                "db_table": configured_name("clients"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="AuthUser",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("email", models.CharField(max_length=255, unique=True)),
                ("password_hash", models.CharField(max_length=255, null=True)),
                ("full_name", models.CharField(max_length=255, null=True)),
                ("username", models.CharField(max_length=255, null=True)),
                ("role", models.CharField(max_length=50)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField(null=True)),
                ("last_login_at", models.DateTimeField(null=True)),
            ],
            options={
                "verbose_name": "auth service user",
                "db_table": configured_name("users"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="AuthUserApiKey",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                ("key_prefix", models.CharField(max_length=12)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("scopes", models.TextField(null=True)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(null=True)),
                ("expires_at", models.DateTimeField(null=True)),
            ],
            options={
                "verbose_name": "auth service API key",
                "db_table": configured_name("user_api_keys"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="FastapiUser",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("email", models.CharField(max_length=320, unique=True)),
                ("hashed_password", models.CharField(max_length=1024)),
                ("is_active", models.BooleanField(default=True)),
                ("is_superuser", models.BooleanField(default=False)),
                ("is_verified", models.BooleanField(default=False)),
            ],
            options={
                "verbose_name": "fastapi-users user",
                "db_table": configured_name("fu_users"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="NatsAccount",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100, unique=True)),
                ("public_key", models.CharField(max_length=56, unique=True)),
                ("jwt", models.TextField(null=True)),
                ("signing_key_public", models.CharField(max_length=56, null=True)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "legacy NATS account",
                "db_table": configured_name("nats_account"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="NatsAuthSession",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("client_id", models.CharField(max_length=100, null=True)),
                ("ip_address", models.GenericIPAddressField(null=True)),
                ("created_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField(null=True)),
                ("closed_at", models.DateTimeField(null=True)),
            ],
            options={
                "verbose_name": "legacy NATS auth session",
                "db_table": configured_name("nats_auth_session"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="NatsUserCredential",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("jwt", models.TextField()),
                ("seed_hash", models.CharField(max_length=128)),
                ("public_key", models.CharField(max_length=56, unique=True)),
                ("account_public_key", models.CharField(max_length=56)),
                ("expires_at", models.DateTimeField(null=True)),
                ("expired_at", models.DateTimeField(null=True)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "legacy NATS user credential",
                "db_table": configured_name("nats_user_credential"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="SharedUser",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("email", models.CharField(max_length=320, unique=True)),
                ("username", models.CharField(max_length=150, null=True)),
                ("hashed_password", models.CharField(max_length=255, null=True)),
                ("first_name", models.CharField(max_length=150, null=True)),
                ("last_name", models.CharField(max_length=150, null=True)),
                ("is_active", models.BooleanField(default=True)),
                ("is_superuser", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField(null=True)),
            ],
            options={
                "verbose_name": "shared-models user",
                "db_table": configured_name("user"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="SharedUserApiKey",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                ("prefix", models.CharField(max_length=12)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField(null=True)),
                ("revoked_at", models.DateTimeField(null=True)),
            ],
            options={
                "verbose_name": "shared-models API key",
                "db_table": configured_name("user_api_key"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="SharedUserProfile",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("bio", models.TextField(null=True)),
                ("avatar_url", models.CharField(max_length=500, null=True)),
                ("timezone", models.CharField(max_length=64, null=True)),
                ("locale", models.CharField(max_length=16, null=True)),
                ("phone", models.CharField(max_length=32, null=True)),
                ("preferences", models.JSONField(default=dict)),
            ],
            options={
                "verbose_name": "shared-models profile",
                "db_table": configured_name("user_profile"),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="SharedUserSession",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("ip_address", models.GenericIPAddressField(null=True)),
                ("user_agent", models.TextField(null=True)),
                ("created_at", models.DateTimeField()),
                ("last_seen_at", models.DateTimeField(null=True)),
                ("expires_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(null=True)),
            ],
            options={
                "verbose_name": "shared-models session",
                "db_table": configured_name("user_session"),
                "managed": False,
            },
        ),
    ]
