from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from crm import navigation
        from crm.access import access_changed
        from crm.models import Team, User

        navigation.register_core_items()
        for model in (User, Team, Group, Permission):
            post_save.connect(access_changed, sender=model, dispatch_uid=f"access-save-{model.__name__}")
            post_delete.connect(access_changed, sender=model, dispatch_uid=f"access-delete-{model.__name__}")
        for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(access_changed, sender=through, dispatch_uid=f"access-m2m-{through.__name__}")
