from django.db import migrations

from crm.models import Role
from crm.roles import grant

# Everyone on the staff plans their own work; plans are set by managers and directors.
PLAN_OWN_WORK = [
    f"contacts.{action}_{model}" for model in ("activity", "reminder") for action in ("view", "add", "change")
]
SET_PLANS = [f"contacts.{action}_workplan" for action in ("view", "add", "change")]
ALL_ACTIVITIES = [
    f"contacts.{action}_{model}"
    for model in ("activity", "reminder", "workplan", "birthdaynotice", "calendarfeed")
    for action in ("view", "add", "change", "delete")
]


def grant_activities(apps, schema_editor):
    grant(
        apps,
        {
            Role.SALES_REP: [*PLAN_OWN_WORK, "contacts.view_workplan"],
            Role.MARKETING: [*PLAN_OWN_WORK, "contacts.view_workplan"],
            Role.SERVICE_AGENT: [*PLAN_OWN_WORK, "contacts.view_workplan"],
            Role.PROCUREMENT: [*PLAN_OWN_WORK, "contacts.view_workplan"],
            Role.SALES_MANAGER: [*PLAN_OWN_WORK, *SET_PLANS],
            Role.DIRECTOR: [*PLAN_OWN_WORK, *SET_PLANS],
            Role.ADMINISTRATOR: ALL_ACTIVITIES,
        },
    )


def revoke_activities(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    models = ("activity", "reminder", "workplan", "birthdaynotice", "calendarfeed")
    perms = Permission.objects.filter(content_type__app_label="contacts", content_type__model__in=models)
    for group in Group.objects.filter(name__in=Role.values):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0006_activities"), ("crm", "0004_notification_prefs")]

    operations = [migrations.RunPython(grant_activities, revoke_activities)]
