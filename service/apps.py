from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from contacts.registry import CardTab, register_tab
        from service import navigation

        navigation.register()
        register_tab(CardTab("tickets", _("Tickets"), "service:company-tickets", order=45))
        register_tab(CardTab("person-tickets", _("Tickets"), "service:person-tickets", order=45, for_person=True))
