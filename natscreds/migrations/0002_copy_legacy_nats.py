"""Copy the NATS tables (nats_account, nats_user_credential, nats_auth_session) (reversible).

Accounts become natscreds.NatsAccount, each person's winning credential moves onto their
user (verified and flagged, never dropped), sessions become natscreds.NatsAuthSession. It
runs after every person exists (accounts 0006). The work is done by legacy.engine with this
migration's historical models; the reverse removes exactly what the copy created. Legacy
tables are only read.
"""

from django.db import migrations

from legacy.migration_ops import copy_source


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_copy_legacy_fastapi_users"),
        ("accounts", "0007_user_nats_credential"),
        ("natscreds", "0001_nats_accounts_and_sessions"),
    ]

    operations = [copy_source("nats")]
