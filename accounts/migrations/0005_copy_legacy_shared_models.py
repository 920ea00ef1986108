"""Copy the shared models ("user", user_api_key, user_profile, user_session) into accounts (reversible).

The work is done by legacy.engine with this migration's historical models; the reverse
removes exactly what the copy created. Legacy tables are only read.
"""

from django.db import migrations

from legacy.migration_ops import copy_source


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_copy_legacy_tenants")]

    operations = [copy_source("shared_models")]
