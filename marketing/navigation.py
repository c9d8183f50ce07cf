"""The "Marketing" menu (registered from MarketingConfig.ready())."""

from django.utils.translation import gettext_lazy as _

from crm.models import Role
from crm.navigation import NavGroup, NavItem
from crm.navigation import register as register_item

MARKETING = NavGroup("marketing", _("Marketing"), "megaphone")
# Sales staff work the leads assigned to them; the rest is marketing's (and the directors').
WORK_LEADS = frozenset({Role.MARKETING, Role.SALES_REP, Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR})
RUN_MARKETING = frozenset({Role.MARKETING, Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR})


def register() -> None:
    for key, label, url_name, icon, order, roles in (
        ("leads", _("Leads"), "marketing:lead-list", "person-plus", 60, WORK_LEADS),
        ("lead-conversion", _("Lead conversion"), "marketing:lead-conversion", "funnel", 61, RUN_MARKETING),
        ("segments", _("Target groups"), "marketing:segment-list", "people", 62, RUN_MARKETING),
        ("campaigns", _("Campaigns"), "marketing:campaign-list", "megaphone", 63, RUN_MARKETING),
        ("web-forms", _("Web forms"), "marketing:webform-list", "ui-checks", 64, RUN_MARKETING),
        ("needs", _("Needs analysis"), "marketing:needs", "clipboard-data", 65, RUN_MARKETING),
    ):
        register_item(NavItem(key, label, url_name, icon, order=order, roles=roles, group=MARKETING))
