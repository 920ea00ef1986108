"""Copy the auth service's clients into tenants, and users.client_id into memberships (reversible).

The work is done by legacy.engine with this migration's historical models; the reverse
removes exactly what the copy created. Legacy tables are only read.
"""

from django.db import migrations

from legacy.migration_ops import copy_source


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_profiles_sessions_tenants")]

    operations = [copy_source("tenants")]
