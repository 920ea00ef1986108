"""Held keys and sessions, and which origins may give their user access.

Origins copied before are proven where they are their user's winning row; any other
merged row proves nothing until its source is declared verified (fail closed).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0009_lean_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='apikey',
            name='held',
            field=models.BooleanField(db_default=False, default=False, help_text='Held for review: does not authenticate.'),
        ),
        migrations.AddField(
            model_name='loginsession',
            name='held',
            field=models.BooleanField(db_default=False, default=False, help_text='Held for review: does not authenticate.'),
        ),
        migrations.AddField(
            model_name='userorigin',
            name='proven',
            field=models.BooleanField(db_default=False, default=False, help_text='The winning row, or its address was confirmed by its service.'),
        ),
        migrations.RunSQL(
            "UPDATE accounts_userorigin SET proven = TRUE WHERE EXISTS (SELECT 1 FROM"
            " accounts_user u WHERE u.id = accounts_userorigin.user_id"
            " AND u.legacy_source = accounts_userorigin.source"
            " AND u.legacy_id = accounts_userorigin.legacy_id)",
            migrations.RunSQL.noop,
        ),
    ]
