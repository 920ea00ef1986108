"""Holds of unproven merged rows, decisions on conflicts and rejections, and the review
queue's model (its view is made by 0006, once the tables it reads are in place)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('legacy', '0003_suspended_foreign_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ReviewItem',
            fields=[
                ('id', models.CharField(max_length=80, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('held', 'Held'), ('conflict', 'Conflict'), ('rejected', 'Rejected')], max_length=16)),
                ('item_id', models.BigIntegerField()),
                ('source', models.CharField(help_text='Legacy table of the row.', max_length=64)),
                ('legacy_id', models.CharField(max_length=64)),
                ('reason', models.CharField(max_length=64)),
                ('detail', models.TextField()),
                ('found_at', models.DateTimeField()),
                ('decision', models.CharField(max_length=16)),
                ('decided_at', models.DateTimeField(null=True)),
            ],
            options={
                'verbose_name': 'review item', 'verbose_name_plural': 'review queue',
                'db_table': 'legacy_reviewitem',
                'permissions': [('decide_reviewitem', 'Can decide held items, conflicts and rejections')],
                'managed': False,
            },
        ),
        migrations.AddField(
            model_name='conflict',
            name='decided_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='conflict',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='conflict',
            name='decision',
            field=models.CharField(blank=True, db_default='', default='', max_length=16),
        ),
        migrations.AddField(
            model_name='rowissue',
            name='decided_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rowissue',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='rowissue',
            name='decision',
            field=models.CharField(blank=True, db_default='', default='', max_length=16),
        ),
        migrations.CreateModel(
            name='Hold',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('api_key', 'API key'), ('session', 'Session'), ('profile', 'Profile'), ('membership', 'tenant membership'), ('nats_credential', 'NATS credential'), ('nats_session', 'NATS session')], max_length=32)),
                ('source', models.CharField(help_text='Legacy table of the held row.', max_length=64)),
                ('legacy_id', models.CharField(max_length=64)),
                ('owner_source', models.CharField(help_text='The merged person row it came from.', max_length=64)),
                ('owner_legacy_id', models.CharField(max_length=64)),
                ('reason', models.CharField(max_length=64)),
                ('detail', models.TextField(blank=True, default='', help_text='Never a secret.')),
                ('held_at', models.DateTimeField()),
                ('decision', models.CharField(blank=True, choices=[('', 'undecided'), ('released', 'Released'), ('dismissed', 'Dismissed')], db_default='', default='', max_length=16)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='legacy.copyrun')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='held_items', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['user'], name='legacy_hold_user_idx')],
                'constraints': [models.UniqueConstraint(fields=('source', 'legacy_id'), name='legacy_hold_unique')],
            },
        ),
    ]
