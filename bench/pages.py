"""The pages `make bench` times. Each issue that adds a page appends it to `PAGES`.

A page is a name (unique; it becomes the `name` in bench/results.json) and a path.

- A fixed URL is a string: `Page("company-list", "/companies/")`.
- A URL that needs an object id is a function of the signed-in bench user that returns the path.
  It runs once, in the benchmark process with Django set up against the seeded bench database,
  after seeding and before timing, so it may use the ORM. Import models inside the function
  (this module is imported before Django is set up) and read through `visible_to(user)` so the
  object is one the user may open, e.g.

      def _company_detail(user: User) -> str:
          from crm.companies.models import Company
          pk = Company.objects.visible_to(user).order_by("pk").values_list("pk", flat=True)[0]
          return f"/companies/{pk}/"

      PAGES.append(Page("company-detail", _company_detail))

Pages are requested as `BENCH_USER` unless `anonymous=True` (no session cookie). Every page must
answer 200 to a GET: a redirect or an error stops the run, naming the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm.models import User

# The seeded sales manager (crm/seed.py): a team scope, a full bell and notification list.
BENCH_USER = "manager@example.com"


@dataclass(frozen=True)
class Page:
    name: str
    path: str | Callable[[User], str]
    # Requested without the session cookie: the login page redirects a signed-in user.
    anonymous: bool = False


def _notifications_middle(user: User) -> str:
    """A keyset page from the middle of the user's notifications, not the cheap first page."""
    from crm.models import Notification

    ids = Notification.objects.visible_to(user).order_by("-id").values_list("id", flat=True)
    return f"/notifications/?before={ids[ids.count() // 2]}"


# The floor every page is compared with: 50 rows of one indexed table by keyset (crm.views.bench_floor).
FLOOR = Page("floor", "/bench/floor/")

PAGES: list[Page] = [
    Page("home", "/"),
    Page("notifications", "/notifications/"),
    Page("notifications-middle", _notifications_middle),
    Page("notification-bell", "/notifications/bell/"),
    Page("teams", "/teams/"),
    Page("login", "/accounts/login/", anonymous=True),
]
