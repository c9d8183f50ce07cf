from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from deals import aggregates, navigation

        navigation.register()
        aggregates.connect()
        _register_deals()
        _register_suppliers()
        _register_orders()


def _register_deals() -> None:
    """The company card's Deals tab, the "won_amount" work-plan metric and the merge handler (deals agent)."""
    from contacts.registry import CardTab, register_merge_handler, register_plan_metric, register_tab
    from deals.merge import move_company_rows
    from deals.selectors_deals import won_amount

    register_tab(CardTab("deals", _("Deals"), "deals:company-deals", order=30))
    register_plan_metric("won_amount", won_amount)
    register_merge_handler(move_company_rows)


def _register_suppliers() -> None:
    """The company card's "Supplier" tab (catalogue agent): shown for every company, says when it is no supplier."""
    from contacts.registry import CardTab, register_tab

    register_tab(CardTab("supplier", _("Supplier"), "deals:company-supplier-tab", order=60))


def _register_orders() -> None:
    """The company card's "Orders" and "Contracts" tabs (orders agent)."""
    from contacts.registry import CardTab, register_tab

    register_tab(CardTab("orders", _("Orders"), "deals:company-orders", order=40))
    register_tab(CardTab("contracts", _("Contracts"), "deals:company-contracts", order=50))
