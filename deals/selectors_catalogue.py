"""Reads of the product catalogue: the list (search, category tree, keyset pages), the card, its changes.

The catalogue is shared reference data: every staff user with deals.view_product reads all of it (there is
no owner scope); the views check that permission. Names and descriptions follow the UI language: English
when the UI is English and the English text is filled in, Ukrainian otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contacts.models import Company
from crm.history import ChangeEntry, history_entries, latest_records, load_names, related_entry
from crm.models import User
from deals.models import Category, Discount, PriceListItem, Product
from deals.pricing import PriceQuote, price_for

PAGE_SIZE = 25  # rows a list page shows, as every list (contacts.selectors_lists.PAGE_SIZE)
SEARCH_MIN_LENGTH = 3
CHANGES_LIMIT = 50
CARD_PRICE_LIST_LIMIT = 100
CARD_DISCOUNT_LIMIT = 100


def _english() -> bool:
    return (get_language() or "").startswith("en")


def localized(obj: Any, name: str) -> str:
    """`obj.<name>_en` in an English UI when it is filled in, otherwise `obj.<name>_uk`."""
    if _english():
        value = getattr(obj, f"{name}_en", "")
        if value:
            return value
    return getattr(obj, f"{name}_uk", "")


# --- category tree ---------------------------------------------------------------------------------------


@dataclass
class CategoryNode:
    pk: int
    name: str
    parent_id: int | None
    children: list[CategoryNode] = field(default_factory=list)


@dataclass
class CategoryTree:
    roots: list[CategoryNode]
    nodes: dict[int, CategoryNode]

    def descendants(self, pk: int) -> list[int]:
        """`pk` and every category below it (empty for an unknown id)."""
        if pk not in self.nodes:
            return []
        found, stack = [], [self.nodes[pk]]
        while stack:
            node = stack.pop()
            found.append(node.pk)
            stack.extend(node.children)
        return found

    def path(self, pk: int | None) -> list[CategoryNode]:
        """From the root down to `pk`."""
        chain: list[CategoryNode] = []
        while pk is not None and pk in self.nodes and all(n.pk != pk for n in chain):
            chain.append(self.nodes[pk])
            pk = self.nodes[pk].parent_id
        return chain[::-1]

    def choices(self) -> list[tuple[int, str]]:
        """(pk, indented name) in tree order, for a <select>."""
        result: list[tuple[int, str]] = []

        def walk(nodes: list[CategoryNode], depth: int) -> None:
            for node in nodes:
                result.append((node.pk, f"{'— ' * depth}{node.name}"))
                walk(node.children, depth + 1)

        walk(self.roots, 0)
        return result


def category_tree() -> CategoryTree:
    """The whole category tree in one query (a few hundred rows at most), siblings sorted by name."""
    rows = list(Category.objects.values_list("pk", "parent_id", "name_uk", "name_en"))
    english = _english()
    nodes = {
        pk: CategoryNode(pk, (name_en if english and name_en else name_uk), parent)
        for pk, parent, name_uk, name_en in rows
    }
    roots: list[CategoryNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: n.name.casefold())
    roots.sort(key=lambda n: n.name.casefold())
    return CategoryTree(roots=roots, nodes=nodes)


# --- product list ----------------------------------------------------------------------------------------


@dataclass
class ProductPage:
    rows: list[Product]
    next_cursor: str | None
    is_first: bool


def _encode_cursor(name: str, pk: int) -> str:
    data = json.dumps([name, pk], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int] | None:
    """The last row's (name, id), or None for a malformed cursor (the first page is shown)."""
    try:
        name, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(name, str) or not isinstance(pk, int):
        return None
    return name, pk


def product_search_q(query: str) -> Q | None:
    """Name (3+ characters) or exact SKU; None when the query is too short to search by name or SKU.

    `name_uk__icontains` emits UPPER(name_uk) LIKE UPPER(…), which deals_product_name_trgm_idx (a trigram
    index on UPPER(name_uk)) serves; the SKU is matched exactly (as typed or upper-cased) through its unique
    btree index, so the OR stays a BitmapOr of two index scans.
    """
    query = " ".join(query.split())
    if not query:
        return None
    by_sku = Q(sku__in=sorted({query, query.upper()}))
    if len(query) < SEARCH_MIN_LENGTH:
        return by_sku
    return by_sku | Q(name_uk__icontains=query)


def product_list_page(
    *,
    user: User,
    query: str = "",
    category_ids: list[int] | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> ProductPage:
    """One page of products by Ukrainian name, then id, after `cursor`: one query, no COUNT(*), no OFFSET.

    `category_ids` is a category with its subcategories (see CategoryTree.descendants). Filters by category
    use deals_product_category_idx (category, name_uk); the search uses the trigram index.
    """
    limit = limit or PAGE_SIZE
    qs: QuerySet[Product] = Product.objects.select_related("category")
    search = product_search_q(query)
    if search is not None:
        qs = qs.filter(search)
    if category_ids is not None:
        qs = qs.filter(category_id__in=category_ids)
    if active is not None:
        qs = qs.filter(is_active=active)
    decoded = _decode_cursor(cursor) if cursor else None
    if decoded:
        name, pk = decoded
        qs = qs.filter(Q(name_uk__gt=name) | Q(name_uk=name, pk__gt=pk))
    rows = list(qs.order_by("name_uk", "pk")[: limit + 1])
    next_cursor = _encode_cursor(rows[limit - 1].name_uk, rows[limit - 1].pk) if len(rows) > limit else None
    rows = rows[:limit]
    for row in rows:
        decorate_product(row)
    return ProductPage(rows=rows, next_cursor=next_cursor, is_first=decoded is None)


def product_options(*, user: User, query: str, limit: int = 20) -> list[Product]:
    """Active products for a picker: by exact SKU or 3+ letters of the name (trigram index), else the first ones."""
    qs = Product.objects.filter(is_active=True)
    search = product_search_q(query)
    if search is not None:
        qs = qs.filter(search)
    return list(qs.order_by("name_uk", "pk")[:limit])


def decorate_product(product: Product) -> Product:
    product.display_name = localized(product, "name")  # type: ignore[attr-defined]
    product.display_description = localized(product, "description")  # type: ignore[attr-defined]
    return product


# --- product card ----------------------------------------------------------------------------------------


def product_get(*, user: User, pk: int) -> Product:
    """A product (Http404 when missing); the catalogue has no row scope, the view checks deals.view_product."""
    return decorate_product(get_object_or_404(Product.objects.select_related("category"), pk=pk))


@dataclass
class PriceListRow:
    item: PriceListItem
    target: str
    is_current: bool


@dataclass
class DiscountRow:
    discount: Discount
    target: str
    is_current: bool


@dataclass
class ProductCard:
    product: Product
    category_path: list[CategoryNode]
    price_lists: list[PriceListRow]
    discounts: list[DiscountRow]
    more_price_lists: bool
    more_discounts: bool


def _is_current(obj: Any, today: date, *, active: bool = True) -> bool:
    return bool(
        active
        and (obj.valid_from is None or obj.valid_from <= today)
        and (obj.valid_until is None or obj.valid_until >= today)
    )


def product_card(*, user: User, pk: int) -> ProductCard:
    """Everything the product card shows (4 queries): the product, its category path, its prices in price lists
    and the discounts on its category (or an ancestor), current ones first."""
    product = product_get(user=user, pk=pk)
    tree = category_tree()
    path = tree.path(product.category_id)
    today = timezone.localdate()
    items = list(
        PriceListItem.objects.filter(product=product)
        .select_related("price_list__company", "price_list__customer_group")
        .order_by("-price_list__is_active", "-price_list__valid_from", "-pk")[: CARD_PRICE_LIST_LIMIT + 1]
    )
    price_lists = [
        PriceListRow(
            item,
            str(item.price_list.company or item.price_list.customer_group),
            _is_current(item.price_list, today, active=item.price_list.is_active),
        )
        for item in items[:CARD_PRICE_LIST_LIMIT]
    ]
    discounts: list[Discount] = []
    if path:
        discounts = list(
            Discount.objects.filter(category_id__in=[n.pk for n in path])
            .select_related("company", "category")
            .order_by("-percent", "-pk")[: CARD_DISCOUNT_LIMIT + 1]
        )
    discount_rows = []
    for discount in discounts[:CARD_DISCOUNT_LIMIT]:
        category = tree.nodes[discount.category_id].name if discount.category_id in tree.nodes else ""
        target = f"{discount.company} · {category}" if discount.company else category
        discount_rows.append(DiscountRow(discount, target, _is_current(discount, today)))
    return ProductCard(
        product=product,
        category_path=path,
        price_lists=price_lists,
        discounts=discount_rows,
        more_price_lists=len(items) > CARD_PRICE_LIST_LIMIT,
        more_discounts=len(discounts) > CARD_DISCOUNT_LIMIT,
    )


def product_quote(*, user: User, product: Product, company: Company, on: date) -> PriceQuote:
    """price_for() for a company the user may see (the caller's form limits the choice to visible_to)."""
    return price_for(company=company, product=product, on=on)


# --- changes ("Changes" tab) -----------------------------------------------------------------------------

_NOT_SHOWN = {"created_at", "updated_at", "id", "image"}


def product_changes(*, user: User, pk: int, limit: int = CHANGES_LIMIT) -> tuple[Product, list[ChangeEntry]]:
    """The latest changes of a product (price, VAT, names…) and of its prices in price lists, newest first."""
    product = product_get(user=user, pk=pk)
    own = latest_records(product.history.all(), limit + 1)
    entries = history_entries(own, limit=limit, names=load_names(own, {"category": Category}), hidden=_NOT_SHOWN)
    items = list(
        PriceListItem.history.filter(product_id=product.pk)
        .select_related("history_user", "price_list")
        .order_by("-history_date", "-history_id")[:limit]
    )
    for record in items:
        list_name = record.price_list.name if record.price_list else f"#{record.price_list_id}"
        entries.append(related_entry(record, f"{list_name}: {record.price} {_('UAH')}"))
    entries.sort(key=lambda e: e.when, reverse=True)
    return product, entries[:limit]
