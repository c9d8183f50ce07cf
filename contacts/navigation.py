from django.utils.translation import gettext_lazy as _

from crm.models import Role
from crm.navigation import CLIENTS, WORK, NavItem
from crm.navigation import register as register_item

# Merging changes other people's clients: managers, directors and administrators.
MERGERS = frozenset({Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR})


def register() -> None:
    register_item(NavItem("my-day", _("My day"), "contacts:my-day", "sun", order=5))
    register_item(NavItem("calendar", _("Calendar"), "contacts:calendar", "calendar3", order=6, group=WORK))
    # Every staff role has a plan (contacts.view_workplan); the team view checks the manager's scope itself.
    register_item(
        NavItem(
            "plans", _("Plans"), "contacts:plan-mine", "bullseye", order=7, roles=frozenset(Role.values), group=WORK
        )
    )
    register_item(
        NavItem("assignments", _("Assignments"), "contacts:assignment-list", "person-check", order=8, group=WORK)
    )
    register_item(NavItem("companies", _("Companies"), "contacts:company-list", "building", order=10, group=CLIENTS))
    register_item(NavItem("people", _("People"), "contacts:person-list", "person-lines-fill", order=20, group=CLIENTS))
    register_item(
        NavItem("lookup", _("Who is calling"), "contacts:lookup", "telephone-inbound", order=30, group=CLIENTS)
    )
    register_item(
        NavItem(
            "duplicates",
            _("Duplicates"),
            "contacts:duplicate-list",
            "intersect",
            order=40,
            roles=MERGERS,
            group=CLIENTS,
        )
    )
