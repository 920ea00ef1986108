"""An index for the admin's list of users: ordered by email, then id.

Without it a page of the users changelist sorts the whole table (about 0.5 s at a million
users); with it the page is read from the first index entries. The unique constraint's
index is on LOWER(email), which an ORDER BY email cannot use.

After the copies (natscreds 0002 is the last to write users), so a first ``migrate``
builds the index once instead of maintaining it row by row during the copy.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_user_nats_credential"),
        ("natscreds", "0002_copy_legacy_nats"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["email", "id"], name="accounts_user_email_id_idx"),
        ),
    ]
