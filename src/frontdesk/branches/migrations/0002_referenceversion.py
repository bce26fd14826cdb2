"""The reference version and, on PostgreSQL, the triggers that change it (see ReferenceVersion)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLES = ("branches_branch", "branches_service", "branches_servicepoint")

CREATE = [
    "CREATE SEQUENCE branches_reference_version_seq",
    "INSERT INTO branches_referenceversion (id, version) VALUES (1, nextval('branches_reference_version_seq'))",
    # An upsert: a flush of every table (tests) empties this one in the same TRUNCATE.
    """CREATE FUNCTION branches_bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO branches_referenceversion (id, version)
        VALUES (1, nextval('branches_reference_version_seq'))
        ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
        RETURN NULL;
    END $$""",
    *(
        f"CREATE TRIGGER {table}_bumps_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION branches_bump_reference_version()"
        for table in TABLES
    ),
]
DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_bumps_reference_version ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS branches_bump_reference_version()",
    "DROP SEQUENCE IF EXISTS branches_reference_version_seq",
]


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Elsewhere the table stays empty: no version, so nothing is held (reference_row).
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("branches", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="ReferenceVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
