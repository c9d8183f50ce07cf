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
from urllib.parse import urlencode

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
    # Extra request headers, made once like a callable path (e.g. an API token for a machine client).
    headers: Callable[[User], dict[str, str]] | None = None


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


# --- Contacts (issue 4): lists, search, caller lookup, cards ---------------------------------------
# The seeded demo client (contacts/seed.py) is the sales representative's, in the bench manager's
# team: its card is the "client with 5,000 interactions" (at sizes M and L), its people have long
# histories. The searches look for what finds several rows (one match redirects to its card).


def _demo_client_id(user: User) -> int:
    from contacts.models import Company
    from contacts.seed import DEMO_CLIENT_EDRPOU

    return (
        Company.objects.visible_to(user)
        .filter(edrpou=DEMO_CLIENT_EDRPOU)
        .order_by("pk")
        .values_list("pk", flat=True)[0]
    )


def _demo_person(user: User) -> tuple[int, str, str]:
    """(id, last name, primary mobile in E.164) of the demo client's first person."""
    from contacts.models import ContactPoint, ContactPointKind, Person

    person = Person.objects.visible_to(user).filter(company_id=_demo_client_id(user)).order_by("pk").first()
    if person is None:
        raise LookupError("the demo client has no people: is the bench database seeded by contacts.seed?")
    mobile = ContactPoint.objects.filter(person=person, kind=ContactPointKind.MOBILE, is_primary=True).first()
    return person.pk, person.last_name, mobile.normalized if mobile else ""


def _national_phone(e164: str) -> str:
    """E.164 "+380671234567" -> "067-123-45-67": the stored number typed in another format."""
    digits = "0" + e164.removeprefix("+380")
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:8]}-{digits[8:]}"


def _company_card(user: User) -> str:
    return f"/contacts/companies/{_demo_client_id(user)}/"


def _person_card(user: User) -> str:
    return f"/contacts/people/{_demo_person(user)[0]}/"


def _search_by_name(user: User) -> str:
    """The surname the user's people share most: a results page, not the redirect one match gets."""
    from urllib.parse import urlencode

    from django.db.models import Count

    from contacts.models import Person

    people = Person.objects.visible_to(user).values("last_name").annotate(n=Count("id"))
    return "/contacts/search/?" + urlencode({"q": people.order_by("-n", "last_name")[0]["last_name"]})


def _search_by_phone(user: User) -> str:
    """A phone two visible companies share (the seeded duplicates), typed in the national format."""
    from urllib.parse import urlencode

    from django.db.models import Count

    from contacts.models import Company, ContactPoint, ContactPointKind

    points = ContactPoint.objects.filter(company__in=Company.objects.visible_to(user), kind=ContactPointKind.PHONE)
    shared = points.values("normalized").annotate(n=Count("id")).filter(n__gt=1).order_by("normalized")
    return "/contacts/search/?" + urlencode({"q": _national_phone(shared[0]["normalized"])})


def _caller_lookup(user: User) -> str:
    from urllib.parse import urlencode

    return "/contacts/lookup/?" + urlencode({"phone": _national_phone(_demo_person(user)[2])})


def _caller_lookup_headers(user: User) -> dict[str, str]:
    """A fresh integration token acting as the bench user, sent the way a phone system sends it."""
    from crm.auth_tokens import token_create
    from crm.models import IntegrationToken

    IntegrationToken.objects.filter(name="bench").delete()  # the previous run's
    _token, key = token_create(name="bench", user=user)
    return {"Accept": "application/json", "Authorization": f"Bearer {key}"}


PAGES += [
    Page("contacts-company-list", "/contacts/companies/"),
    Page("contacts-company-list-filtered", "/contacts/companies/?region=kyiv_city&role=customer"),
    Page("contacts-person-list", "/contacts/people/"),
    Page("contacts-search-name", _search_by_name),
    Page("contacts-search-phone", _search_by_phone),
    Page("contacts-company-card", _company_card),
    Page("contacts-person-card", _person_card),
]
# The phone system's request: no session, an integration token.
PAGES.append(Page("contacts-lookup-json", _caller_lookup, anonymous=True, headers=_caller_lookup_headers))


# --- Activities (issue 5): My day and the calendar of the demo representative (contacts/seed_activities.py
# gives sales@example.com 10,000 activities at M and L), the manager's team plan page.
ACTIVITY_USER = "sales@example.com"


def _signed_in_as(email: str) -> Callable[[User], dict[str, str]]:
    """Headers that request a page as `email` instead of BENCH_USER: a session made in the bench database.

    They replace the bench user's `Cookie` header (run_pages merges the page's headers last).
    """

    def headers(_bench_user: User) -> dict[str, str]:
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

        from crm.models import User

        user = User.objects.get(email=email)
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "crm.access.CachedPermissionsBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}

    return headers


def _calendar_month(_user: User) -> str:
    """This month's events, as FullCalendar asks for them (first of this month to first of the next)."""
    from urllib.parse import urlencode

    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    first = timezone.localdate().replace(day=1)
    return "/contacts/calendar/events/?" + urlencode({"start": first, "end": first + relativedelta(months=1)})


PAGES += [
    Page("activities-my-day", "/contacts/my-day/", headers=_signed_in_as(ACTIVITY_USER)),
    Page("activities-calendar-month-json", _calendar_month, headers=_signed_in_as(ACTIVITY_USER)),
    Page("plans-team", "/contacts/plans/team/"),  # as BENCH_USER, the manager of the demo team
]


# --- Sales (issue 6): deals/seed.py puts about 20,000 open deals in the default pipeline "Продажі" at L
# (2,000 at M), gives the bench manager's own companies open deals with lines and orders with a full status
# history, and the first products several supplier offers each. The board is requested by the director, who
# sees all 20,000 (the manager's team sees about a third); supplier pages need procurement rights.
DIRECTOR_USER = "director@example.com"
PROCUREMENT_USER = "procurement@example.com"


def _default_pipeline_id() -> int:
    from deals.models import Pipeline

    return Pipeline.objects.filter(is_default=True).values_list("pk", flat=True)[0]


def _deals_board(_user: User) -> str:
    return f"/sales/deals/board/?pipeline={_default_pipeline_id()}"


def _deals_list_filtered(_user: User) -> str:
    """Open deals in the first stage of the default pipeline (the one holding the most)."""
    from deals.models import Stage

    stage = (
        Stage.objects.filter(pipeline_id=_default_pipeline_id(), is_won=False, is_lost=False)
        .order_by("order", "pk")
        .values_list("pk", flat=True)[0]
    )
    return f"/sales/deals/?status=open&stage={stage}"


def _deal_card(user: User) -> str:
    """The bench user's own open deal with the most lines."""
    from django.db.models import Count
    from django.urls import reverse

    from deals.models import Deal, DealStatus

    deal = (
        Deal.objects.visible_to(user)
        .filter(owner=user, status=DealStatus.OPEN, has_lines=True)
        .annotate(n=Count("lines"))
        .order_by("-n", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if deal is None:
        raise LookupError("the bench user has no open deal with lines: is the bench database seeded by deals.seed?")
    return reverse("deals:deal-detail", args=[deal])


def _order_card(user: User) -> str:
    """The bench user's own recent order with the longest status history, then the most lines."""
    from datetime import timedelta

    from django.db.models import Count
    from django.urls import reverse
    from django.utils import timezone

    from deals.models import Order

    order = (
        Order.objects.visible_to(user)
        .filter(owner=user, created_at__gte=timezone.now() - timedelta(days=60))
        .annotate(n=Count("status_changes", distinct=True), lines_n=Count("lines", distinct=True))
        .order_by("-n", "-lines_n", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if order is None:
        raise LookupError("the bench user has no recent order: is the bench database seeded by deals.seed?")
    return reverse("deals:order-detail", args=[order])


def _product_suppliers(_user: User) -> str:
    """The supplier comparison of the product with the most offers."""
    from django.db.models import Count

    from deals.models import SupplierOffer

    top = SupplierOffer.objects.values("product_id").annotate(n=Count("id")).order_by("-n", "product_id").first()
    if top is None:
        raise LookupError("no supplier offers: is the bench database seeded by deals.seed?")
    return f"/sales/products/{top['product_id']}/suppliers/"


PAGES += [
    Page("deals-board", _deals_board, headers=_signed_in_as(DIRECTOR_USER)),
    Page("deals-list-filtered", _deals_list_filtered),
    Page("orders-overdue", "/sales/orders/?overdue=1"),
    Page("deal-card", _deal_card),
    Page("order-card", _order_card),
    Page("product-suppliers", _product_suppliers, headers=_signed_in_as(PROCUREMENT_USER)),
]


# --- Service desk (issue 7): service/seed.py gives about 6,000 open tickets at L (3%) over the service team and the
# sales teams, a tenth of the open ones around the clock with the resolution due between two hours ago and four
# hours ahead (so "due within the hour" has rows whenever the bench runs), and long threads of exactly 50 messages
# on companies of the bench manager. The queues are requested by the service agent, who works them (the team
# queue of "Сервіс", ~4,500 open tickets at L); the card, the knowledge base and the reports by the bench manager.
SERVICE_USER = "service@example.com"


def _long_ticket_card(user: User) -> str:
    """A ticket with exactly 50 messages that the user sees (service.seed.LONG_THREAD)."""
    from django.db.models import Count

    from service.models import Ticket, TicketMessage
    from service.seed import LONG_THREAD

    long = TicketMessage.objects.values("ticket").annotate(n=Count("id")).filter(n=LONG_THREAD).values("ticket")
    pk = Ticket.objects.visible_to(user).filter(pk__in=long).order_by("-pk").values_list("pk", flat=True).first()
    if pk is None:
        raise LookupError("no visible ticket with 50 messages: is the bench database seeded by service.seed?")
    return f"/service/tickets/{pk}/"


PAGES += [
    Page("service-queue-team", "/service/tickets/?queue=team", headers=_signed_in_as(SERVICE_USER)),
    Page("service-queue-soon", "/service/tickets/?due=soon", headers=_signed_in_as(SERVICE_USER)),
    Page("service-ticket-card", _long_ticket_card),
    # A word of about 20 articles at L (service.seed's printing articles); percent-encoded, as a browser sends it.
    Page("service-kb-search", "/service/kb/?" + urlencode({"q": "принтер"})),
    Page("service-reports", "/service/reports/"),
]


# --- Marketing (issue 12): marketing/seed.py gives L 300,000 leads, 500 campaigns and 2,000,000 members, one campaign
# (marketing.seed.BIG_CAMPAIGN) with 1,000,000 of them and its report computed. Requested by the marketing user, who
# sees every lead and campaign (the bench manager sees only their team's). The report reads the rollups only.
MARKETING_USER = "marketing@example.com"


def _big_campaign_report(_user: User) -> str:
    """The report of the 1,000,000-member campaign (at S, which has none, the largest computed campaign)."""
    from django.db.models import Sum

    from crm.models import User as UserModel
    from marketing.models import Campaign
    from marketing.seed import BIG_CAMPAIGN

    marketer = UserModel.objects.get(email=MARKETING_USER)
    campaigns = Campaign.objects.visible_to(marketer).filter(report_computed_at__isnull=False)
    pk = campaigns.filter(name=BIG_CAMPAIGN).order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        pk = campaigns.annotate(n=Sum("report_rows__members")).order_by("-n", "pk").values_list("pk", flat=True).first()
    if pk is None:
        raise LookupError("no computed campaign report: is the bench database seeded by marketing.seed?")
    return f"/marketing/campaigns/{pk}/report/"


PAGES += [
    Page(
        "marketing-leads-filtered",
        "/marketing/leads/?" + urlencode({"status": "new", "region": "kyiv_city"}),
        headers=_signed_in_as(MARKETING_USER),
    ),
    Page("marketing-campaigns", "/marketing/campaigns/", headers=_signed_in_as(MARKETING_USER)),
    Page("marketing-report-big", _big_campaign_report, headers=_signed_in_as(MARKETING_USER)),
    Page("marketing-conversion", "/marketing/leads/conversion/", headers=_signed_in_as(MARKETING_USER)),
]
