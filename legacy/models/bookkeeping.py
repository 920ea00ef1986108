"""What the copy writes about itself: runs, rows it could not copy cleanly, and conflicts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CopyRun(models.Model):
    """One run of the copy engine, from ``migrate`` or ``migrate_legacy_users``."""

    class Outcome(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        VERIFY_FAILED = "verify_failed", "verification failed"
        FAILED = "failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=32, help_text="migrate or command")
    sources = models.JSONField(default=list)
    dry_run = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    report = models.JSONField(default=dict, help_text="Counts per table and step.")
    verification = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.outcome})"


class RowIssue(models.Model):
    """A legacy row that was rejected (not copied) or copied with a warning, and why."""

    class Kind(models.TextChoices):
        REJECTED = "rejected"
        WARNING = "warning", "copied with a warning"

    source = models.CharField(max_length=64, help_text="Legacy table (its key in settings).")
    legacy_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=64)
    detail = models.TextField(blank=True, default="")
    first_seen_at = models.DateTimeField()
    run = models.ForeignKey(CopyRun, null=True, blank=True, on_delete=models.SET_NULL)
    # A person's decision in the review queue (legacy/review.py); never undone by a run.
    decision = models.CharField(max_length=16, blank=True, default="", db_default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "legacy_id", "reason"], name="legacy_rowissue_unique"
            ),
        ]
        indexes = [models.Index(fields=["kind", "reason"], name="legacy_rowissue_kind_idx")]

    def __str__(self) -> str:
        return f"{self.source}#{self.legacy_id}: {self.reason}"


class Conflict(models.Model):
    """Two legacy rows of one person disagreed on a field; which value won and why."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merge_conflicts"
    )
    field = models.CharField(max_length=64)
    source = models.CharField(max_length=64, help_text="The legacy row whose value lost.")
    legacy_id = models.CharField(max_length=64)
    winner_source = models.CharField(max_length=64, null=True, blank=True)
    winner_legacy_id = models.CharField(max_length=64, null=True, blank=True)
    kept_value = models.TextField(null=True, blank=True, help_text="Never a secret.")
    other_value = models.TextField(null=True, blank=True, help_text="Never a secret.")
    rule = models.CharField(max_length=200)
    detected_at = models.DateTimeField()
    run = models.ForeignKey(CopyRun, null=True, blank=True, on_delete=models.SET_NULL)
    # A person's decision in the review queue (legacy/review.py); never undone by a run.
    decision = models.CharField(max_length=16, blank=True, default="", db_default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "field", "source", "legacy_id"], name="legacy_conflict_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field} on user {self.user_id}"


class Hold(models.Model):
    """A legacy row held back from its user: it came from a merged row whose address was
    never proven, so it grants nothing until a person releases it.

    API keys and sessions are copied with ``held`` set (they never authenticate); profiles,
    memberships and NATS credentials are not attached at all until released.
    """

    class Kind(models.TextChoices):
        API_KEY = "api_key", "API key"
        SESSION = "session"
        PROFILE = "profile"
        MEMBERSHIP = "membership", "tenant membership"
        NATS_CREDENTIAL = "nats_credential", "NATS credential"
        NATS_SESSION = "nats_session", "NATS session"

    class Decision(models.TextChoices):
        UNDECIDED = "", "undecided"
        RELEASED = "released"
        DISMISSED = "dismissed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="held_items"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    source = models.CharField(max_length=64, help_text="Legacy table of the held row.")
    legacy_id = models.CharField(max_length=64)
    owner_source = models.CharField(max_length=64, help_text="The merged person row it came from.")
    owner_legacy_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=64)
    detail = models.TextField(blank=True, default="", help_text="Never a secret.")
    held_at = models.DateTimeField()
    run = models.ForeignKey(CopyRun, null=True, blank=True, on_delete=models.SET_NULL)
    decision = models.CharField(
        max_length=16, blank=True, default="", db_default="", choices=Decision.choices
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "legacy_id"], name="legacy_hold_unique"),
        ]
        indexes = [models.Index(fields=["user"], name="legacy_hold_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source}#{self.legacy_id} (held)"


class ReviewItem(models.Model):
    """One line of the admin's review queue: a hold, a conflict or a rejected row.

    A database view (``legacy_reviewitem``, made by migration 0006) over the three
    tables, so that one page filters, searches and pages them together.
    """

    class Kind(models.TextChoices):
        HELD = "held"
        CONFLICT = "conflict"
        REJECTED = "rejected"

    id = models.CharField(max_length=80, primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    item_id = models.BigIntegerField()
    source = models.CharField(max_length=64, help_text="Legacy table of the row.")
    legacy_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=64)
    detail = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    found_at = models.DateTimeField()
    decision = models.CharField(max_length=16)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    decided_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "legacy_reviewitem"
        verbose_name = "review item"
        verbose_name_plural = "review queue"
        permissions = [("decide_reviewitem", "Can decide held items, conflicts and rejections")]

    def __str__(self) -> str:
        return f"{self.kind} {self.source}#{self.legacy_id}: {self.reason}"


class SuspendedForeignKey(models.Model):
    """A foreign key the copy set aside for a large step and has not put back yet.

    Recorded in the transaction that drops it, so a run killed meanwhile leaves the record
    and the next run puts the constraint back first (legacy/engine/foreign_keys.py).
    """

    table_name = models.CharField(max_length=128)
    constraint_name = models.CharField(max_length=128)
    definition = models.TextField(help_text="As PostgreSQL prints it (pg_get_constraintdef).")
    set_aside_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.constraint_name} on {self.table_name}"
