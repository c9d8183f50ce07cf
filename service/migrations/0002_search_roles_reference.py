"""The knowledge base's text search configuration, the roles' permissions and starting reference data
(ticket categories, SLA policies with targets; all editable in the admin)."""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

from crm.models import Role
from crm.roles import grant

# `simple` (no stemming: PostgreSQL has no Ukrainian snowball dictionary) after unaccent, so Latin accents
# ("café"/"cafe") match either way; unaccent's rules leave Cyrillic letters such as "ґ" and "ї" as they are.
SEARCH_CONFIG_SQL = """
CREATE TEXT SEARCH CONFIGURATION crm_simple_unaccent (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION crm_simple_unaccent
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple;
"""

WORK = [
    f"service.{action}_{model}"
    for model in ("ticket", "ticketmessage", "ticketattachment", "knowledgearticle")
    for action in ("view", "add", "change")
]
READ = ["service.view_ticket", "service.view_ticketmessage", "service.view_knowledgearticle"]
REPORTS = ["service.view_servicedailyrollup"]

CATEGORIES = ["Доставка", "Оплата і рахунки", "Якість товару", "Гарантія і ремонт", "Консультація", "Повернення"]
# name, contract level, default, business hours only, {priority: (first answer, resolution) in minutes}
POLICIES = [
    (
        "Базовий",
        "basic",
        False,
        True,
        {"low": (960, 4800), "normal": (480, 2400), "high": (240, 960), "urgent": (60, 480)},
    ),
    (
        "Стандартний",
        "standard",
        True,
        True,
        {"low": (480, 2400), "normal": (240, 1440), "high": (120, 480), "urgent": (30, 240)},
    ),
    (
        "Преміум 24/7",
        "premium",
        False,
        False,
        {"low": (240, 1440), "normal": (120, 480), "high": (60, 240), "urgent": (15, 120)},
    ),
]


def forwards(apps, schema_editor):
    grant(
        apps,
        {
            Role.SERVICE_AGENT: [*WORK, *REPORTS],
            Role.SALES_MANAGER: [*READ, "service.change_ticket", "service.add_ticket", *REPORTS],
            Role.DIRECTOR: [*WORK, *REPORTS],
            Role.SALES_REP: READ,
            Role.MARKETING: ["service.view_knowledgearticle"],
            Role.PROCUREMENT: ["service.view_knowledgearticle"],
            Role.ADMINISTRATOR: [
                f"service.{action}_{model._meta.model_name}"
                for model in apps.get_app_config("service").get_models()
                for action in ("view", "add", "change", "delete")
            ],
        },
    )
    Category = apps.get_model("service", "TicketCategory")
    for name in CATEGORIES:
        Category.objects.get_or_create(name=name)
    Policy = apps.get_model("service", "SlaPolicy")
    Target = apps.get_model("service", "SlaTarget")
    for name, level, is_default, business_only, targets in POLICIES:
        policy, created = Policy.objects.get_or_create(
            name=name, defaults={"service_level": level, "is_default": is_default, "business_hours_only": business_only}
        )
        if created:
            for priority, (first, resolution) in targets.items():
                Target.objects.create(
                    policy=policy, priority=priority, first_response_minutes=first, resolution_minutes=resolution
                )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=Role.values):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="service"))


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0001_initial"),
        ("crm", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        UnaccentExtension(),
        migrations.RunSQL(SEARCH_CONFIG_SQL, "DROP TEXT SEARCH CONFIGURATION IF EXISTS crm_simple_unaccent;"),
        migrations.RunPython(forwards, backwards),
    ]
