"""Role-aware main navigation: a registry that each app fills in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.models import Role, User


@dataclass(frozen=True)
class NavGroup:
    """A dropdown of the main menu; items name it, so the bar stays one line as apps add pages."""

    key: str
    label: str | Promise
    icon: str


WORK = NavGroup("work", _("My work"), "calendar-check")
CLIENTS = NavGroup("clients", _("Clients"), "building")
SALES = NavGroup("sales", _("Sales"), "graph-up-arrow")


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
    # The dropdown it belongs to; None: a link of its own on the bar.
    group: NavGroup | None = None

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


@dataclass(frozen=True)
class NavMenu:
    """One entry of the bar: a group's dropdown (with the user's items of it, in order)."""

    group: NavGroup
    items: list[NavItem]

    @property
    def url_names(self) -> frozenset[str]:
        return frozenset(item.url_name for item in self.items)


def menu_for(user: User) -> list[NavItem | NavMenu]:
    """The bar for `user`: single items and group dropdowns, each placed where its first item's order puts it."""
    entries: list[NavItem | NavMenu] = []
    menus: dict[str, NavMenu] = {}
    for item in items_for(user):
        if item.group is None:
            entries.append(item)
        elif item.group.key in menus:
            menus[item.group.key].items.append(item)
        else:
            menus[item.group.key] = NavMenu(item.group, [item])
            entries.append(menus[item.group.key])
    return entries


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
