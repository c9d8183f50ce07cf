import pytest
from django.core.management import CommandError, call_command
from django.template.loader import render_to_string
from django.utils import translation

from contacts.models import Activity, Company, Industry, Person
from crm.models import Notification, Role, Team, User
from crm.seed import DEMO_USERS
from crm.seeding import DEMO_PASSWORD
from deals.models import Category, Contract, CustomerGroup, Deal, LoyaltyRule, Order, Product
from marketing.models import Campaign, Segment, WebForm
from service.models import Ticket

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_teams_and_one_login_per_role():
    call_command("seed_demo", size="S", no_progress=True)
    assert Team.objects.count() == 4  # the sales teams and the service desk (service.seed)
    for email, _name, role, _team in DEMO_USERS:
        user = User.objects.get(email=email)
        assert user.check_password(DEMO_PASSWORD)
        assert role in user.roles
    assert {role for *_rest, role, _team in DEMO_USERS} == set(Role.values)
    assert User.objects.get(email="manager@example.com").managed_teams.exists()
    assert Notification.objects.count() == 200


def test_seed_demo_is_deterministic_and_refuses_a_filled_database():
    call_command("seed_demo", size="S", no_progress=True)
    first = list(User.objects.order_by("email").values_list("email", "full_name"))
    with pytest.raises(CommandError, match="already has users"):
        call_command("seed_demo", size="S", no_progress=True)
    Ticket.objects.all().delete()  # tickets protect their companies (service.seed)
    # Marketing rows protect their owners (marketing.seed); members and report rows go with the campaigns.
    Campaign.objects.all().delete()
    Segment.objects.all().delete()
    WebForm.objects.all().delete()
    Order.objects.all().delete()  # sales rows protect their companies and owners (deals.seed)
    Deal.objects.all().delete()
    Contract.objects.all().delete()
    Product.objects.all().delete()  # the catalogue belongs to nobody: unique SKUs and names come back
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()
    CustomerGroup.objects.all().delete()
    LoyaltyRule.objects.all().delete()
    Activity.objects.all().delete()  # the assignee is protected
    Person.objects.all().delete()
    Company.objects.all().delete()
    Industry.objects.all().delete()
    Notification.objects.all().delete()
    User.objects.all().delete()
    Team.objects.all().delete()
    call_command("seed_demo", size="S", no_progress=True)
    assert list(User.objects.order_by("email").values_list("email", "full_name")) == first


@pytest.mark.parametrize(("template", "text"), [("403.html", "Доступ заборонено"), ("500.html", "Щось пішло не так")])
def test_error_pages_are_translated(template, text, rf):
    with translation.override("uk"):
        html = render_to_string(template, request=rf.get("/") if template != "500.html" else None)
    assert text in html
