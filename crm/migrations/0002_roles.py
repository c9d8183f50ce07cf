from django.db import migrations

from crm.models import Role
from crm.roles import ALL, grant


def create_roles(apps, schema_editor):
    grant(
        apps,
        {
            Role.SALES_REP: ["crm.view_team"],
            Role.SALES_MANAGER: ["crm.view_team", "crm.view_user"],
            Role.MARKETING: ["crm.view_team"],
            Role.SERVICE_AGENT: ["crm.view_team"],
            Role.PROCUREMENT: ["crm.view_team"],
            Role.DIRECTOR: ["crm.view_team", "crm.view_user"],
            Role.ADMINISTRATOR: ALL,
        },
    )


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=Role.values).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
