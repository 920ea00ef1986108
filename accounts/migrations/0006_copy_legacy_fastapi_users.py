"""Copy fastapi-users' fu_users into accounts (reversible).

The work is done by legacy.engine with this migration's historical models; the reverse
removes exactly what the copy created. Legacy tables are only read.
"""

from django.db import migrations

from legacy.migration_ops import copy_source


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_copy_legacy_shared_models")]

    operations = [copy_source("fastapi_users")]
