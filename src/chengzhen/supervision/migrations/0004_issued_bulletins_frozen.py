"""An issued bulletin (已签发的工作通报) is frozen in the database itself: a trigger refuses
any UPDATE of its row, whatever path the statement comes from (page, API, admin, a shell).

Deletes are refused by the model and the admin and recorded by the audit chain; a DELETE
trigger is left out so a test database can still be emptied between tests.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER supervision_bulletin_frozen BEFORE UPDATE ON supervision_bulletin
       WHEN OLD.status = 'issued'
       BEGIN SELECT RAISE(ABORT, 'issued bulletin is frozen (已签发的通报不能修改)'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS supervision_bulletin_frozen"]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION supervision_bulletin_frozen() RETURNS trigger AS $$
       BEGIN
         IF OLD.status = 'issued' THEN
           RAISE EXCEPTION 'issued bulletin is frozen (已签发的通报不能修改)'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER supervision_bulletin_frozen BEFORE UPDATE ON supervision_bulletin
       FOR EACH ROW EXECUTE FUNCTION supervision_bulletin_frozen()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS supervision_bulletin_frozen ON supervision_bulletin",
    "DROP FUNCTION IF EXISTS supervision_bulletin_frozen()",
]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("supervision", "0003_bulletins_inspections_accountability")]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRES}),
                             _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})),
    ]
