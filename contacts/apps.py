from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from contacts import navigation, selectors_search

        navigation.register()
        selectors_search.register_search_provider()
