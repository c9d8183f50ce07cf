"""The consent log is append-only (a trigger refuses DELETE and every UPDATE but re-pointing person / lead),
and the roles' permissions."""

from django.db import migrations

from crm.models import Role
from crm.roles import grant

APPEND_ONLY_SQL = """
CREATE FUNCTION marketing_consentevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Re-pointing person / lead (a merge, an erased person) is the only change allowed.
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'person_id' - 'lead_id') = (to_jsonb(OLD) - 'person_id' - 'lead_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the consent log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER marketing_consentevent_append_only
    BEFORE UPDATE OR DELETE ON marketing_consentevent
    FOR EACH ROW EXECUTE FUNCTION marketing_consentevent_append_only();
"""
DROP_SQL = """
DROP TRIGGER marketing_consentevent_append_only ON marketing_consentevent;
DROP FUNCTION marketing_consentevent_append_only();
"""

MARKETING_MODELS = (
    "lead", "assignmentrule", "webform", "segment", "segmentmember", "campaign", "campaigncost",
    "campaignmember", "emailsuppression",
)  # fmt: skip
WORK = [f"marketing.{action}_{model}" for model in MARKETING_MODELS for action in ("view", "add", "change")]
READ_RESULTS = ["marketing.view_campaign", "marketing.view_campaignreport", "marketing.view_consentevent"]
WORK_LEADS = ["marketing.view_lead", "marketing.change_lead"]


def forwards(apps, schema_editor):
    grant(
        apps,
        {
            Role.MARKETING: [*WORK, *READ_RESULTS, "marketing.add_consentevent"],
            Role.SALES_REP: WORK_LEADS,
            Role.SALES_MANAGER: [*WORK_LEADS, "marketing.add_lead", *READ_RESULTS, "marketing.view_segment"],
            Role.DIRECTOR: [*WORK, *READ_RESULTS],
            Role.ADMINISTRATOR: [
                f"marketing.{action}_{model._meta.model_name}"
                for model in apps.get_app_config("marketing").get_models()
                for action in ("view", "add", "change", "delete")
            ],
        },
    )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=Role.values):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="marketing"))


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0001_initial"),
        ("crm", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL(APPEND_ONLY_SQL, DROP_SQL),
        migrations.RunPython(forwards, backwards),
    ]
