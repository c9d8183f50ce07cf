"""Reads of contracts: the filtered list (keyset by id), the card with its field history, the company tab."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from contacts.models import Company
from crm.history import ChangeEntry, history_entries, latest_records, load_names
from crm.models import Team, User
from deals.filters_orders import ContractFilter
from deals.models import Contract

PAGE_SIZE = 25  # rows a list page shows, as every list (contacts.selectors_lists.PAGE_SIZE)
COMPANY_TAB_LIMIT = 20
CHANGES_LIMIT = 50


@dataclass
class ContractPage:
    rows: list[Contract]
    next_cursor: int | None
    is_first: bool


def contract_page(*, filterset: ContractFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> ContractPage:
    """Newest first by id (2,000 contracts at size L): one query, no COUNT."""
    qs = filterset.qs.select_related("company", "owner")
    after = int(cursor) if cursor and cursor.isdigit() else None
    if after is not None:
        qs = qs.filter(id__lt=after)
    rows = list(qs.order_by("-id")[: limit + 1])
    next_cursor = rows[limit - 1].pk if len(rows) > limit else None
    return ContractPage(rows=rows[:limit], next_cursor=next_cursor, is_first=after is None)


def contract_get(*, user: User, pk: int) -> Contract:
    """A contract the user may see; Http404 otherwise."""
    return get_object_or_404(Contract.objects.visible_to(user).select_related("company", "owner", "team"), pk=pk)


_FK_MODELS: dict[str, type] = {"company": Company, "owner": User, "team": Team}
_HIDDEN = {"id", "created_at", "updated_at", "expiry_notified_at"}


def contract_changes(*, contract: Contract, limit: int = CHANGES_LIMIT) -> list[ChangeEntry]:
    """The latest field changes of a contract the caller fetched through contract_get."""
    records = latest_records(contract.history.all(), limit + 1)
    return history_entries(records, limit=limit, names=load_names(records, _FK_MODELS), hidden=_HIDDEN)


@dataclass
class CompanyContracts:
    rows: list[Contract]
    more: bool


def company_contracts(*, user: User, company: Company, limit: int = COMPANY_TAB_LIMIT) -> CompanyContracts:
    """The company's contracts the user sees, latest start first (a company has a handful)."""
    qs = Contract.objects.visible_to(user).filter(company=company).select_related("owner")
    rows = list(qs.order_by("-starts_on", "-id")[: limit + 1])
    return CompanyContracts(rows=rows[:limit], more=len(rows) > limit)
