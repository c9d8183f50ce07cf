from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # A million people at size L: build the indexes without locking writes.
    atomic = False

    dependencies = [
        ("contacts", "0012_pending_assignments_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="person",
            index=models.Index(fields=["owner", "birth_month", "birth_day"], name="contacts_person_owner_bday_idx"),
        ),
        AddIndexConcurrently(
            model_name="person",
            index=models.Index(
                fields=["team", "birth_month", "birth_day", "is_shared"], name="contacts_person_team_bday_idx"
            ),
        ),
    ]
