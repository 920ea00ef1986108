"""The review queue's view: one line per hold, conflict and rejected row (legacy.ReviewItem).

No join: a page counts and sorts the three tables alone, and finds its users by key.
Last of the migrations that shape the tables it reads: SQLite cannot rebuild a table a view
reads, and PostgreSQL cannot change the type of a column one reads. A later migration
that rebuilds legacy_hold, legacy_conflict or legacy_rowissue must depend on this one and
drop the view first (``migrations.RunSQL(DROP_REVIEW_VIEW, REVIEW_VIEW)``), then make it
again.
"""

from django.db import migrations

REVIEW_VIEW = """
CREATE VIEW legacy_reviewitem AS
SELECT 'held:' || CAST(h.id AS VARCHAR(20)) AS id, 'held' AS kind, h.id AS item_id,
    h.source, h.legacy_id, h.reason, h.kind || ': ' || h.detail AS detail,
    h.user_id, h.held_at AS found_at, h.decision, h.decided_by_id, h.decided_at
FROM legacy_hold h
UNION ALL
SELECT 'conflict:' || CAST(c.id AS VARCHAR(20)), 'conflict', c.id, c.source, c.legacy_id,
    c.field, 'kept ' || COALESCE(c.kept_value, '(none)') || ', the row has '
    || COALESCE(c.other_value, '(a value not shown)') || ': ' || c.rule,
    c.user_id, c.detected_at, c.decision, c.decided_by_id, c.decided_at
FROM legacy_conflict c
UNION ALL
SELECT 'rejected:' || CAST(i.id AS VARCHAR(20)), 'rejected', i.id, i.source, i.legacy_id,
    i.reason, i.detail, NULL, i.first_seen_at, i.decision, i.decided_by_id, i.decided_at
FROM legacy_rowissue i WHERE i.kind = 'rejected'
"""

DROP_REVIEW_VIEW = "DROP VIEW legacy_reviewitem"


class Migration(migrations.Migration):
    dependencies = [("legacy", "0005_copy_every_source_with_holds")]

    operations = [migrations.RunSQL(REVIEW_VIEW, DROP_REVIEW_VIEW)]
