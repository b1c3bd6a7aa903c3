"""The named system account that commands run as when no --as is given."""

from django.db import migrations

from chengzhen.audit.migration import record_created


def create_system_user(apps, schema_editor):
    User = apps.get_model("org", "User")
    if User.objects.filter(username="system").exists():
        return
    user = User.objects.create(
        username="system", full_name="系统", is_active=False, password="!", version=1
    )
    record_created(apps, "org.0003_system_user", [user], exclude=("password", "last_login"))


class Migration(migrations.Migration):
    dependencies = [("org", "0002_initial"), ("audit", "0001_initial")]
    operations = [migrations.RunPython(create_system_user, migrations.RunPython.noop)]
