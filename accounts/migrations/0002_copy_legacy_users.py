"""Copy the auth service's users and user_api_keys into accounts (reversible).

The work is done by legacy.engine with this migration's historical models; the reverse
removes exactly what the copy created. Legacy tables are only read.
"""

from django.db import migrations

from legacy.migration_ops import copy_source


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_users_and_api_keys"),
        ("legacy", "0002_copy_bookkeeping"),
    ]

    operations = [copy_source("auth_service")]
