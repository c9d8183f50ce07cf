from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from contacts import navigation, selectors_search

        navigation.register()
        selectors_search.register_search_provider()
        _register_activity_tabs()


def _register_activity_tabs() -> None:
    """The Activities tab on company and person cards (issue 5), with a "Plan activity" button inside."""
    from contacts.registry import CardTab, register_tab

    register_tab(CardTab("activities", _("Activities"), "contacts:company-activities", order=10))
    register_tab(CardTab("person-activities", _("Activities"), "contacts:person-activities", order=10, for_person=True))
