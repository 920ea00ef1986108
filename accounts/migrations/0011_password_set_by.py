"""How a password was last set: in authcore, or re-hashed from the copied one at login."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0010_held_keys_and_proven_origins'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='password_set_by',
            field=models.CharField(blank=True, choices=[('authcore', 'set in authcore'), ('rehash', 're-hashed at login')], help_text='How the password was last set: empty, as the copy left it.', max_length=16, null=True),
        ),
    ]
