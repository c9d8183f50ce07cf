from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from marketing import navigation
        from marketing.bounces import dsn_handle
        from service.mail import register_inbound_handler

        navigation.register()

        # DSNs of campaign e-mails come back to the service desk's mailbox (marketing.bounces).
        register_inbound_handler(dsn_handle)
