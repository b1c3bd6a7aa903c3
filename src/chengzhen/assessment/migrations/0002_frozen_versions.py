"""A framework version a round was scored on is frozen in the database itself: a trigger refuses
any UPDATE of its row once ``frozen_at`` is set, whatever path the statement comes from.

Deletes are refused by the model and the admin (read-only); a DELETE trigger is left out so a
test database can still be emptied between tests (as for issued bulletins).
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER assessment_frameworkversion_frozen BEFORE UPDATE ON assessment_frameworkversion
       WHEN OLD.frozen_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'framework version is frozen (已冻结的测评体系版本不能修改)'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS assessment_frameworkversion_frozen"]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION assessment_frameworkversion_frozen() RETURNS trigger AS $$
       BEGIN
         IF OLD.frozen_at IS NOT NULL THEN
           RAISE EXCEPTION 'framework version is frozen (已冻结的测评体系版本不能修改)'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER assessment_frameworkversion_frozen BEFORE UPDATE ON assessment_frameworkversion
       FOR EACH ROW EXECUTE FUNCTION assessment_frameworkversion_frozen()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS assessment_frameworkversion_frozen ON assessment_frameworkversion",
    "DROP FUNCTION IF EXISTS assessment_frameworkversion_frozen()",
]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_frameworks_profiles_scorings")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
