import time
from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from crm.models import User
from crm.seeding import SIZES, SeedContext


class Command(BaseCommand):
    help = "Load deterministic demo data of size S, M or L into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=SIZES, default="S", type=str.upper)
        parser.add_argument("--no-progress", action="store_true", help="Hide progress bars.")

    def handle(self, *args, size: str, no_progress: bool, **options):
        if User.objects.exists():
            raise CommandError("The database already has users: seed_demo only fills an empty database.")
        ctx = SeedContext(size=size, progress=not no_progress)
        started = time.monotonic()
        with transaction.atomic():
            for app_name in settings.LOCAL_APPS:
                module_name = f"{app_name}.seed"
                if find_spec(module_name) is None:
                    continue
                self.stdout.write(f"Seeding {app_name} ({size})…")
                import_module(module_name).seed(ctx)
        # Outside the transaction: VACUUM sets the visibility map, so index-only scans (work-plan counts,
        # list keysets) do not visit the heap until autovacuum would have run.
        if size != "S":
            self.stdout.write("VACUUM ANALYZE…")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
        self.stdout.write(self.style.SUCCESS(f"Demo data of size {size} loaded in {time.monotonic() - started:.1f} s."))
