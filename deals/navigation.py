"""Menu items of the sales app (registered from DealsConfig.ready()).

Each item is shown to the roles that migration 0002 lets read the page. Roles, not `has_perm`: the
user's roles are already loaded for row access, so the menu costs no query of its own.
"""

from django.utils.translation import gettext_lazy as _

from crm.models import Role
from crm.navigation import SALES, NavItem
from crm.navigation import register as register_item

READ_SALES = frozenset(
    {Role.SALES_REP, Role.SALES_MANAGER, Role.DIRECTOR, Role.MARKETING, Role.SERVICE_AGENT, Role.ADMINISTRATOR}
)
READ_CATALOGUE = READ_SALES | {Role.PROCUREMENT}
READ_SUPPLIERS = frozenset({Role.PROCUREMENT, Role.DIRECTOR, Role.ADMINISTRATOR})


def register() -> None:
    for key, label, url_name, icon, order, roles in (
        ("deals", _("Deals"), "deals:deal-board", "kanban", 50, READ_SALES),
        ("orders", _("Orders"), "deals:order-list", "receipt", 52, READ_SALES),
        ("contracts", _("Contracts"), "deals:contract-list", "file-earmark-text", 54, READ_SALES),
        ("products", _("Products"), "deals:product-list", "box-seam", 55, READ_CATALOGUE),
        ("suppliers", _("Suppliers"), "deals:supplier-list", "truck", 58, READ_SUPPLIERS),
    ):
        register_item(NavItem(key, label, url_name, icon, order=order, roles=roles, group=SALES))
