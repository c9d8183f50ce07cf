"""The demo-data framework behind `manage.py seed_demo`.

Every app may have a `seed.py` with `def seed(ctx: SeedContext) -> None`; the command calls them in
INSTALLED_APPS order, so an app's data can point at the data of the apps below it. Data is
deterministic (fixed Faker and random seeds) and big tables are loaded with COPY.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from faker import Faker
from tqdm import tqdm

SIZES = ("S", "M", "L")
DEMO_PASSWORD = "demo12345"


@dataclass
class SeedContext:
    size: str
    progress: bool = True
    faker: Faker = field(default_factory=lambda: Faker("uk_UA"))
    rng: random.Random = field(default_factory=lambda: random.Random(20261123))
    # What earlier seeders made and later ones need (e.g. "users", "teams").
    shared: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.faker.seed_instance(20261123)

    def pick(self, small: int, medium: int, large: int) -> int:
        return {"S": small, "M": medium, "L": large}[self.size]

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], total: int) -> None:
        """Bulk-load rows with COPY (bulk_create is ~100x slower at size L)."""
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in tqdm(rows, total=total, desc=table, unit="rows", disable=not self.progress, leave=False):
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {table}")
