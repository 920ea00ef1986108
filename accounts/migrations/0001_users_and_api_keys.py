import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import accounts.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoleGroup",
            fields=[
                (
                    "group",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="legacy_role",
                        serialize=False,
                        to="auth.group",
                    ),
                ),
                ("created_by_copy", models.BooleanField(default=True)),
            ],
        ),
        migrations.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "last_login",
                    models.DateTimeField(blank=True, null=True, verbose_name="last login"),
                ),
                (
                    "is_superuser",
                    models.BooleanField(
                        default=False,
                        help_text="Designates that this user has all permissions without explicitly assigning them.",
                        verbose_name="superuser status",
                    ),
                ),
                ("email", models.EmailField(max_length=254)),
                ("password", models.CharField(max_length=1088, verbose_name="password")),
                ("username", models.CharField(blank=True, max_length=255, null=True)),
                ("full_name", models.CharField(blank=True, max_length=255, null=True)),
                ("is_active", models.BooleanField(default=True)),
                (
                    "is_staff",
                    models.BooleanField(
                        default=False,
                        help_text="Can log into this admin site. Never copied from legacy rows.",
                    ),
                ),
                (
                    "is_verified",
                    models.BooleanField(default=False, help_text="Email address confirmed."),
                ),
                ("date_joined", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "password_changed_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Last time the password was set in authcore.",
                        null=True,
                    ),
                ),
                (
                    "legacy_source",
                    models.CharField(
                        blank=True,
                        help_text="Legacy table this user was created from.",
                        max_length=64,
                        null=True,
                    ),
                ),
                (
                    "legacy_id",
                    models.CharField(
                        blank=True,
                        help_text="Primary key of the winning legacy row.",
                        max_length=64,
                        null=True,
                    ),
                ),
                (
                    "groups",
                    models.ManyToManyField(
                        blank=True,
                        help_text="The groups this user belongs to. A user will get all permissions granted to each of their groups.",
                        related_name="user_set",
                        related_query_name="user",
                        to="auth.group",
                        verbose_name="groups",
                    ),
                ),
                (
                    "user_permissions",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Specific permissions for this user.",
                        related_name="user_set",
                        related_query_name="user",
                        to="auth.permission",
                        verbose_name="user permissions",
                    ),
                ),
            ],
            managers=[
                ("objects", accounts.models.UserManager()),
            ],
        ),
        migrations.CreateModel(
            name="ApiKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "prefix",
                    models.CharField(help_text="First characters of the token.", max_length=12),
                ),
                (
                    "digest",
                    models.CharField(
                        help_text="sha256 hex of the token.", max_length=64, unique=True
                    ),
                ),
                (
                    "scopes",
                    models.TextField(
                        blank=True, help_text="Comma-separated, as before.", null=True
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("legacy_source", models.CharField(blank=True, max_length=64, null=True)),
                ("legacy_id", models.CharField(blank=True, max_length=64, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_keys",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API key",
            },
        ),
        migrations.CreateModel(
            name="UserOrigin",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        help_text="Legacy table (its key in settings).", max_length=64
                    ),
                ),
                ("legacy_id", models.CharField(max_length=64)),
                (
                    "legacy_email",
                    models.CharField(
                        help_text="The email as the legacy row has it.", max_length=512
                    ),
                ),
                ("copied_at", models.DateTimeField()),
                (
                    "legacy_password",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="Never displayed.",
                        max_length=1088,
                    ),
                ),
                ("legacy_active", models.BooleanField(default=True)),
                ("synced_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="origins",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["legacy_source"], name="accounts_user_source_idx"),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"), name="accounts_user_email_ci_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=("legacy_source", "legacy_id"), name="accounts_user_legacy_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="apikey",
            constraint=models.UniqueConstraint(
                fields=("legacy_source", "legacy_id"), name="accounts_apikey_legacy_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="userorigin",
            constraint=models.UniqueConstraint(
                fields=("source", "legacy_id"), name="accounts_origin_unique"
            ),
        ),
    ]
