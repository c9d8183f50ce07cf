"""Roles' permissions for the sales app and its starting reference data (editable in the admin)."""

from django.db import migrations

from crm.models import Role
from crm.roles import grant

SELL = [
    f"deals.{action}_{model}"
    for model in ("deal", "dealline", "order", "orderline", "contract")
    for action in ("view", "add", "change")
]
READ_CATALOGUE = [
    f"deals.view_{model}"
    for model in ("product", "category", "pricelist", "pricelistitem", "discount", "loyaltyrule", "pipeline", "stage")
]
SUPPLY = [
    f"deals.{action}_{model}"
    for model in ("supplierprofile", "supplieroffer", "purchasedelivery", "product")
    for action in ("view", "add", "change")
]
READ_SALES = [f"deals.view_{model}" for model in ("deal", "order", "contract")]

LOSS_REASONS = ["Ціна", "Обрали конкурента", "Немає бюджету", "Немає потреби", "Не вдалося зв'язатися", "Терміни"]
FAILURE_REASONS = [
    "Немає на складі",
    "Оплату не отримано",
    "Клієнт відмовився",
    "Доставка не вдалася",
    "Помилка в замовленні",
]
STAGES = [  # name, probability, won, lost
    ("Новий запит", 10, False, False),
    ("Кваліфікація", 20, False, False),
    ("Пропозиція", 40, False, False),
    ("Переговори", 70, False, False),
    ("Виграно", 100, True, False),
    ("Програно", 0, False, True),
]


def forwards(apps, schema_editor):
    grant(
        apps,
        {
            Role.SALES_REP: [*SELL, *READ_CATALOGUE],
            Role.SALES_MANAGER: [*SELL, *READ_CATALOGUE],
            Role.DIRECTOR: [*SELL, *READ_CATALOGUE, *SUPPLY],
            Role.PROCUREMENT: [*SUPPLY, *READ_CATALOGUE],
            Role.MARKETING: [*READ_SALES, *READ_CATALOGUE],
            Role.SERVICE_AGENT: [*READ_SALES, *READ_CATALOGUE],
            Role.ADMINISTRATOR: [
                f"deals.{action}_{model._meta.model_name}"
                for model in apps.get_app_config("deals").get_models()
                for action in ("view", "add", "change", "delete")
            ],
        },
    )
    LossReason = apps.get_model("deals", "LossReason")
    FailureReason = apps.get_model("deals", "FailureReason")
    Pipeline = apps.get_model("deals", "Pipeline")
    Stage = apps.get_model("deals", "Stage")
    for name in LOSS_REASONS:
        LossReason.objects.get_or_create(name=name)
    for name in FAILURE_REASONS:
        FailureReason.objects.get_or_create(name=name)
    pipeline, created = Pipeline.objects.get_or_create(name="Продажі", defaults={"is_default": True})
    if created:
        for order, (name, probability, won, lost) in enumerate(STAGES):
            Stage.objects.create(
                pipeline=pipeline, name=name, order=order, probability=probability, is_won=won, is_lost=lost
            )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=Role.values):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="deals"))


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial"), ("crm", "0004_notification_prefs")]

    operations = [migrations.RunPython(forwards, backwards)]
