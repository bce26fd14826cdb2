# Two partial indexes of the waiting visits, walked in arrival order by call next.
#
# On PostgreSQL they are built CONCURRENTLY (outside a transaction), so that adding them to a
# production visit table does not hold check-ins and calls up while the index is built.

from django.conf import settings
from django.db import migrations, models

INDEXES = [
    models.Index(
        condition=models.Q(("status", "waiting")),
        fields=["branch", "arrived_at", "id"],
        name="visit_waiting_idx",
    ),
    models.Index(
        condition=models.Q(("priority_reason__gt", ""), ("status", "waiting")),
        fields=["branch", "arrived_at", "id"],
        name="visit_waiting_priority_idx",
    ),
]


def _each_index(apps, schema_editor, operation):
    visit = apps.get_model("queueing", "Visit")
    extra = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in INDEXES:
        getattr(schema_editor, operation)(visit, index, **extra)


def add_indexes(apps, schema_editor):
    _each_index(apps, schema_editor, "add_index")


def remove_indexes(apps, schema_editor):
    _each_index(apps, schema_editor, "remove_index")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("branches", "0001_initial"),
        ("queueing", "0003_one_visit_at_a_time_per_counter"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="visit", index=index) for index in INDEXES],
            database_operations=[migrations.RunPython(add_indexes, remove_indexes)],
        ),
    ]
