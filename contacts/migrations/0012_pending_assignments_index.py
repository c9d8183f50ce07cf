from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Activities are a big table in production: build the index without locking writes.
    atomic = False

    dependencies = [
        ("contacts", "0011_plan_day"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0005_notification_kinds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("assignment_state", "pending"), ("kind", "assignment"), ("status", "planned")),
                fields=["assignee", "starts_at"],
                name="contacts_act_pending_idx",
            ),
        ),
    ]
