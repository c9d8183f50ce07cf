"""contacts_planday: work plan actuals per user and local day, kept by triggers (see contacts.models.PlanDay).

Statement-level triggers with transition tables: one aggregate upsert per statement, whatever its size
(a COPY of millions of interactions, a merge moving thousands), and no write at all when a statement
changes nothing the plans count (an edited subject, a company merge: old and new rows cancel out).
The upserts go in (user, day) order, so two concurrent statements cannot deadlock on the rollup rows.
The triggers are created before the backfill in one transaction: CREATE TRIGGER blocks writes to the
table until the migration commits, so no row is counted twice or missed.
"""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CHANNELS = "('call_in', 'call_out', 'meeting', 'visit')"


def _day(column: str) -> str:
    # The local day, in TIME_ZONE as of this migration (the plan periods are local weeks and months).
    return f"({column} AT TIME ZONE '{settings.TIME_ZONE}')::date"


def _interactions(rows: str, sign: int) -> str:
    return f"""
        SELECT user_id, {_day("occurred_at")} AS day,
            {sign} * count(*) FILTER (WHERE channel IN ('call_in', 'call_out')) AS calls,
            {sign} * count(*) FILTER (WHERE channel = 'meeting') AS meetings,
            {sign} * count(*) FILTER (WHERE channel = 'visit') AS visits,
            interval '0' AS spent
        FROM {rows} WHERE user_id IS NOT NULL AND channel IN {CHANNELS} GROUP BY 1, 2"""


def _activities(rows: str, sign: int) -> str:
    return f"""
        SELECT assignee_id, {_day("completed_at")}, 0, 0, 0, {sign} * COALESCE(sum(actual_duration), interval '0')
        FROM {rows} WHERE status = 'done' AND assignee_id IS NOT NULL AND completed_at IS NOT NULL GROUP BY 1, 2"""


def _upsert(changes: str) -> str:
    return f"""
        INSERT INTO contacts_planday AS d (user_id, day, calls, meetings, visits, spent)
        SELECT user_id, day, sum(calls), sum(meetings), sum(visits), sum(spent)
        FROM ({changes}) AS changes (user_id, day, calls, meetings, visits, spent)
        GROUP BY 1, 2
        HAVING sum(calls) <> 0 OR sum(meetings) <> 0 OR sum(visits) <> 0 OR sum(spent) <> interval '0'
        ORDER BY 1, 2
        ON CONFLICT (user_id, day) DO UPDATE SET
            calls = d.calls + EXCLUDED.calls, meetings = d.meetings + EXCLUDED.meetings,
            visits = d.visits + EXCLUDED.visits, spent = d.spent + EXCLUDED.spent;"""


def _triggers(table: str, name: str, select) -> str:
    return f"""
    CREATE FUNCTION contacts_planday_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_upsert(select("new_rows", 1))}
        ELSIF TG_OP = 'DELETE' THEN {_upsert(select("old_rows", -1))}
        ELSE {_upsert(select("old_rows", -1) + " UNION ALL " + select("new_rows", 1))}
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER contacts_planday_{name}_insert AFTER INSERT ON {table}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_planday_{name}();
    CREATE TRIGGER contacts_planday_{name}_update AFTER UPDATE ON {table}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION contacts_planday_{name}();
    CREATE TRIGGER contacts_planday_{name}_delete AFTER DELETE ON {table}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_planday_{name}();
    """


def _drop(table: str, name: str) -> str:
    return (
        "".join(
            f"DROP TRIGGER IF EXISTS contacts_planday_{name}_{event} ON {table};"
            for event in ("insert", "update", "delete")
        )
        + f"DROP FUNCTION IF EXISTS contacts_planday_{name}();"
    )


TRIGGERS = _triggers("contacts_interaction", "interactions", _interactions) + _triggers(
    "contacts_activity", "activities", _activities
)
DROP_TRIGGERS = _drop("contacts_interaction", "interactions") + _drop("contacts_activity", "activities")
BACKFILL = _upsert(_interactions("contacts_interaction", 1) + " UNION ALL " + _activities("contacts_activity", 1))


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0010_covering_hours_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PlanDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("calls", models.IntegerField(db_default=0, default=0)),
                ("meetings", models.IntegerField(db_default=0, default=0)),
                ("visits", models.IntegerField(db_default=0, default=0)),
                ("spent", models.DurationField(db_default=datetime.timedelta(0), default=datetime.timedelta(0))),
                (
                    "user",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        # Its own operation: in CreateModel the constraint would be added at the end of the migration, after
        # the backfill's ON CONFLICT needs it.
        migrations.AddConstraint(
            model_name="planday",
            constraint=models.UniqueConstraint(fields=("user", "day"), name="contacts_planday_one_per_day"),
        ),
        migrations.RunSQL(TRIGGERS + BACKFILL, reverse_sql=DROP_TRIGGERS),
    ]
