from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

OPEN = ["confirmed", "in_progress", "new", "shipped"]


class Migration(migrations.Migration):
    # Orders are a big table: build the indexes without locking writes. They serve the overdue list of a
    # representative or a manager (selectors_orders._overdue_ids): one ordered walk per part of the scope
    # that stops at the page size, instead of sorting the scope's thousands of overdue orders (~30 ms at L).
    atomic = False

    dependencies = [
        ("deals", "0006_deal_stage_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(
                condition=models.Q(status__in=OPEN, expected_date__isnull=False),
                fields=["owner", "expected_date", "id"],
                name="deals_order_owner_overdue_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(
                condition=models.Q(status__in=OPEN, expected_date__isnull=False),
                fields=["team", "expected_date", "id"],
                name="deals_order_team_overdue_idx",
            ),
        ),
    ]
