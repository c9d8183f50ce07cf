from django.db import migrations

from crm.models import Role
from crm.roles import grant

MODELS = ["company", "person", "contactpoint", "interaction", "employment", "consent", "savedfilter"]
WORK = [f"contacts.{action}_{model}" for model in MODELS for action in ("view", "add", "change")]
READ_AND_LOG = [f"contacts.view_{model}" for model in MODELS] + ["contacts.add_interaction"]
ALL_CONTACTS = (
    WORK
    + [f"contacts.delete_{model}" for model in MODELS]
    + [
        f"contacts.{action}_{model}"
        for model in ("industry", "interactionattachment")
        for action in ("view", "add", "change", "delete")
    ]
)


def grant_contacts(apps, schema_editor):
    grant(
        apps,
        {
            Role.SALES_REP: WORK,
            Role.SALES_MANAGER: WORK,
            Role.MARKETING: WORK,
            Role.DIRECTOR: WORK,
            Role.SERVICE_AGENT: READ_AND_LOG,
            Role.PROCUREMENT: READ_AND_LOG,
            Role.ADMINISTRATOR: ALL_CONTACTS,
        },
    )


def revoke_contacts(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=Role.values):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="contacts"))


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_list_indexes"), ("crm", "0003_integrationtoken_job")]

    operations = [migrations.RunPython(grant_contacts, revoke_contacts)]
