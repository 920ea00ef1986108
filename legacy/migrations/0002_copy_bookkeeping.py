import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("legacy", "0001_legacy_tables"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CopyRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("trigger", models.CharField(help_text="migrate or command", max_length=32)),
                ("sources", models.JSONField(default=list)),
                ("dry_run", models.BooleanField(default=False)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("verify_failed", "verification failed"),
                            ("failed", "Failed"),
                        ],
                        default="running",
                        max_length=16,
                    ),
                ),
                ("report", models.JSONField(default=dict, help_text="Counts per table and step.")),
                ("verification", models.JSONField(blank=True, null=True)),
            ],
            options={
                "ordering": ["-started_at"],
            },
        ),
        migrations.CreateModel(
            name="Conflict",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("field", models.CharField(max_length=64)),
                (
                    "source",
                    models.CharField(help_text="The legacy row whose value lost.", max_length=64),
                ),
                ("legacy_id", models.CharField(max_length=64)),
                ("winner_source", models.CharField(blank=True, max_length=64, null=True)),
                ("winner_legacy_id", models.CharField(blank=True, max_length=64, null=True)),
                (
                    "kept_value",
                    models.TextField(blank=True, help_text="Never a secret.", null=True),
                ),
                (
                    "other_value",
                    models.TextField(blank=True, help_text="Never a secret.", null=True),
                ),
                ("rule", models.CharField(max_length=200)),
                ("detected_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="merge_conflicts",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="legacy.copyrun",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "field", "source", "legacy_id"),
                        name="legacy_conflict_unique",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RowIssue",
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
                    "kind",
                    models.CharField(
                        choices=[("rejected", "Rejected"), ("warning", "copied with a warning")],
                        max_length=16,
                    ),
                ),
                ("reason", models.CharField(max_length=64)),
                ("detail", models.TextField(blank=True, default="")),
                ("first_seen_at", models.DateTimeField()),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="legacy.copyrun",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["kind", "reason"], name="legacy_rowissue_kind_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("source", "legacy_id", "reason"), name="legacy_rowissue_unique"
                    )
                ],
            },
        ),
    ]
