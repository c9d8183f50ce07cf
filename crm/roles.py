"""Helpers for data migrations that create roles (auth Groups) and grant them permissions.

Each app's data migration calls `grant(apps, {Role: ["app_label.codename", ...]})` for its own
models, so a role's permissions grow with the apps that are installed.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions

ALL = "__all__"


def ensure_permissions(apps) -> None:
    """Permissions are normally created after `migrate`; a data migration needs them now."""
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)  # AppConfigStub in migrations has none
        app_config.models_module = models_module or True  # create_permissions skips apps without one
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = models_module


def grant(apps, grants: dict[str, list[str] | str]) -> None:
    """Create the roles named in `grants` and give each the listed permissions (or ALL)."""
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in grants.items():
        group, _created = Group.objects.get_or_create(name=str(role))
        if perms == ALL:
            group.permissions.add(*Permission.objects.all())
            continue
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
