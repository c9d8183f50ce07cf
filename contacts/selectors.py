"""Reads of the contacts app; every one starts from visible_to(user)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from contacts.models import Company, Person
from crm.models import Scope, User


def company_get(*, user: User, pk: int) -> Company:
    """Raises Http404 for a company the user may not see."""
    return get_object_or_404(Company.objects.visible_to(user).select_related("owner", "team", "industry"), pk=pk)


def person_get(*, user: User, pk: int) -> Person:
    """Raises Http404 for a person the user may not see."""
    return get_object_or_404(Person.objects.visible_to(user).select_related("owner", "team", "company"), pk=pk)


def assignable_owners(actor: User) -> QuerySet[User]:
    """Active users the actor may filter by or hand a record to: the actor's teams, or everyone for a director."""
    # Only what a choice label, a permission check and an owner change read: pickers list tens of users.
    users = (
        User.objects.filter(is_active=True).only("full_name", "email", "team", "is_active").order_by("full_name", "pk")
    )
    if actor.scope == Scope.ALL:
        return users
    return users.filter(Q(pk=actor.pk) | Q(team__in=actor.team_ids))
