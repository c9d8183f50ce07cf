"""Role-aware main navigation: a registry that each app fills in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.models import Role, User


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str
    order: int = 100
    # Shown when the user has any of these roles (superusers see everything); None: everyone.
    roles: frozenset[str] | None = None
    # Or a custom rule, e.g. `lambda user: user.is_staff`.
    rule: Callable[[User], bool] | None = None

    def allows(self, user: User) -> bool:
        if self.rule is not None:
            return self.rule(user)
        return self.roles is None or user.has_role(*self.roles)

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_registry: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _registry[item.key] = item


def items_for(user: User) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return sorted((item for item in _registry.values() if item.allows(user)), key=lambda item: item.order)


def register_core_items() -> None:
    register(NavItem("home", _("Home"), "crm:home", "house", order=0))
    register(
        NavItem(
            "teams",
            _("Teams"),
            "crm:team-list",
            "people",
            order=900,
            roles=frozenset({Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR}),
        )
    )
    register(NavItem("admin", _("Administration"), "admin:index", "gear", order=1000, rule=lambda u: u.is_staff))
