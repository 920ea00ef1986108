"""Copy every legacy source, now that a merged row which proves nothing can be held.

On a new database the earlier copy migrations copy nothing (their models predate
holds), and this one does it all; on one copied before, it copies what is new. The
reverse is the earlier copy migrations' (legacy.migration_ops.copy_every_source).
"""

from django.db import migrations

from legacy.migration_ops import copy_every_source


class Migration(migrations.Migration):
    dependencies = [
        ("legacy", "0004_holds_and_review_queue"),
        ("accounts", "0010_held_keys_and_proven_origins"),
        ("natscreds", "0002_copy_legacy_nats"),
    ]

    operations = [copy_every_source()]
