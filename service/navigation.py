"""The "Service" menu (registered from ServiceConfig.ready()): agents, managers and directors."""

from django.utils.translation import gettext_lazy as _

from crm.models import Role
from crm.navigation import NavGroup, NavItem
from crm.navigation import register as register_item

SERVICE = NavGroup("service", _("Service"), "life-preserver")
WORK_TICKETS = frozenset({Role.SERVICE_AGENT, Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR})
READ_REPORTS = frozenset({Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR, Role.SERVICE_AGENT})


def register() -> None:
    for key, label, url_name, icon, order, roles in (
        ("tickets", _("Tickets"), "service:ticket-list", "inbox", 70, WORK_TICKETS),
        ("kb", _("Knowledge base"), "service:kb", "journal-text", 72, WORK_TICKETS),
        ("service-reports", _("Service reports"), "service:reports", "bar-chart-line", 74, READ_REPORTS),
    ):
        register_item(NavItem(key, label, url_name, icon, order=order, roles=roles, group=SERVICE))
