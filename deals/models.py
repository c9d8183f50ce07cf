"""Sales: catalogue and prices, pipelines and deals, customer orders, contracts, suppliers.

Money is Decimal with 2 places, in UAH unless a supplier offer says otherwise. Every owned model
(Deal, Order, Contract) is scoped by owner and team through ScopedQuerySet.visible_to(user);
catalogue and reference data are readable by every staff user.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from contacts.models import Company, Person, Region
from crm.models import BaseModel, ChoiceDisplayMixin, ScopedQuerySet

ZERO = Decimal("0.00")
MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 3}
PERCENT = {"max_digits": 5, "decimal_places": 2, "validators": [MinValueValidator(0), MaxValueValidator(100)]}


def _percent_check(field: str, app_model: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0, f"{field}__lte": 100}),
        name=f"deals_{app_model}_{field}_percent",
        violation_error_message=_("A percentage is between 0 and 100."),
    )


def _not_negative(field: str, app_model: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}),
        name=f"deals_{app_model}_{field}_not_negative",
        violation_error_message=_("The value cannot be negative."),
    )


def _dates_ordered(app_model: str, start: str = "valid_from", end: str = "valid_until") -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{end}__isnull": True}) | Q(**{f"{start}__isnull": True}) | Q(**{f"{end}__gte": F(start)}),
        name=f"deals_{app_model}_dates_ordered",
        violation_error_message=_("The end date cannot be before the start date."),
    )


# --- catalogue ---------------------------------------------------------------------------------------


class Category(BaseModel):
    """A node of the product category tree (adjacency list: a few hundred rows at most)."""

    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name_uk = models.CharField(_("name (Ukrainian)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name_uk"], name="deals_category_unique_name"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="deals_category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name_uk


class Unit(models.TextChoices):
    PIECE = "pcs", _("pcs")
    KG = "kg", _("kg")
    TONNE = "t", _("t")
    LITRE = "l", _("l")
    METRE = "m", _("m")
    SQ_METRE = "m2", _("m²")
    PACK = "pack", _("pack")
    HOUR = "hour", _("hour")
    SERVICE = "service", _("service")


class VatRate(models.TextChoices):
    """Ukrainian VAT rates, in percent."""

    STANDARD = "20.00", _("20 %")
    REDUCED = "7.00", _("7 %")
    ZERO = "0.00", _("0 %")
    EXEMPT = "-1", _("not subject to VAT")


class Product(BaseModel):
    sku = models.CharField(_("SKU"), max_length=50, unique=True)
    name_uk = models.CharField(_("name (Ukrainian)"), max_length=300)
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True)
    description_uk = models.TextField(_("description (Ukrainian)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    unit = models.CharField(_("unit"), max_length=8, choices=Unit, default=Unit.PIECE)
    base_price = models.DecimalField(_("base price, UAH"), **MONEY)
    vat_rate = models.CharField(_("VAT rate"), max_length=6, choices=VatRate, default=VatRate.STANDARD)
    is_active = models.BooleanField(_("active"), default=True)
    stock_quantity = models.DecimalField(_("in stock"), null=True, blank=True, **QUANTITY)
    image = models.ImageField(_("image"), upload_to="products/%Y/", blank=True)
    history = HistoricalRecords(excluded_fields=["description_uk", "description_en"])

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            _not_negative("base_price", "product"),
            models.CheckConstraint(condition=Q(vat_rate__in=VatRate.values), name="deals_product_vat_valid"),
        ]
        indexes = [
            # Catalogue search and the product pickers of deal/order lines.
            GinIndex(OpClass(Upper("name_uk"), name="gin_trgm_ops"), name="deals_product_name_trgm_idx"),
            models.Index(fields=["category", "name_uk"], name="deals_product_category_idx"),
            # The pickers' first page (limit_choices: ORDER BY name_uk, id LIMIT n) without sorting the catalogue.
            models.Index(fields=["name_uk", "id"], name="deals_product_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name_uk}"

    @property
    def vat_percent(self) -> Decimal:
        """VAT in percent; 0 for goods not subject to VAT."""
        return max(Decimal(self.vat_rate), ZERO)


class CustomerGroup(BaseModel):
    """A group of companies that share a price list (dealers, wholesale, VIP…)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    companies = models.ManyToManyField(Company, verbose_name=_("companies"), blank=True, related_name="+")

    class Meta:
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")

    def __str__(self) -> str:
        return self.name


class PriceList(BaseModel):
    """Prices for one company or one customer group, valid between two dates (either may be open)."""

    name = models.CharField(_("name"), max_length=150)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer_group = models.ForeignKey(
        CustomerGroup,
        verbose_name=_("customer group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="price_lists",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, customer_group__isnull=True)
                | Q(company__isnull=True, customer_group__isnull=False),
                name="deals_pricelist_one_target",
                violation_error_message=_("A price list is for one company or one customer group."),
            ),
            _dates_ordered("pricelist"),
        ]
        indexes = [models.Index(fields=["company"], name="deals_pricelist_company_idx")]

    def __str__(self) -> str:
        return self.name


class PriceListItem(BaseModel):
    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+")
    price = models.DecimalField(_("price, UAH"), **MONEY)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="deals_pricelistitem_unique"),
            _not_negative("price", "pricelistitem"),
        ]
        indexes = [models.Index(fields=["product"], name="deals_priceitem_product_idx")]

    def __str__(self) -> str:
        return f"{self.price_list}: {self.product_id}"


class Discount(BaseModel):
    """A percentage off for a company, a category, or a company on a category, between two dates."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    percent = models.DecimalField(_("discount, %"), **PERCENT)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        constraints = [
            _percent_check("percent", "discount"),
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(category__isnull=False),
                name="deals_discount_has_target",
                violation_error_message=_("Choose a company, a category or both."),
            ),
            _dates_ordered("discount"),
        ]
        indexes = [models.Index(fields=["company", "category"], name="deals_discount_target_idx")]

    def __str__(self) -> str:
        return f"{self.percent} %"


class LoyaltyRule(BaseModel):
    """Data, not code: at least `min_orders` orders or `min_amount` UAH in the last `period_days` → `percent` off."""

    name = models.CharField(_("name"), max_length=150)
    min_orders = models.PositiveIntegerField(_("at least this many orders"), null=True, blank=True)
    min_amount = models.DecimalField(_("or at least this amount, UAH"), null=True, blank=True, **MONEY)
    period_days = models.PositiveIntegerField(_("within the last days"), default=365)
    percent = models.DecimalField(_("discount, %"), **PERCENT)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("loyalty rule")
        verbose_name_plural = _("loyalty rules")
        constraints = [
            _percent_check("percent", "loyaltyrule"),
            models.CheckConstraint(
                condition=Q(min_orders__isnull=False) | Q(min_amount__isnull=False),
                name="deals_loyaltyrule_has_condition",
                violation_error_message=_("Set a number of orders, an amount, or both."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- pipelines and deals -------------------------------------------------------------------------------


class Pipeline(BaseModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "name"]  # a handful of rows
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="deals_pipeline_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stage(BaseModel):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability, %"), default=0, validators=[MaxValueValidator(100)])
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order"]  # a handful of rows per pipeline
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="deals_stage_unique_name"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="deals_stage_probability_percent"),
            models.CheckConstraint(condition=~Q(is_won=True, is_lost=True), name="deals_stage_not_won_and_lost"),
        ]

    def __str__(self) -> str:
        return self.name


class LossReason(BaseModel):
    """Reference list of why deals are lost (kept by an administrator)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")
        ordering = ["name"]  # backed by the unique index

    def __str__(self) -> str:
        return self.name


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", pgettext_lazy("deal status", "Lost")


class DealSource(models.TextChoices):
    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    EXHIBITION = "exhibition", _("Exhibition")
    COLD_CALL = "cold_call", _("Cold call")
    CAMPAIGN = "campaign", _("Campaign")
    REPEAT = "repeat", _("Repeat customer")
    OTHER = "other", _("Other")


class DealQuerySet(ScopedQuerySet):
    pass


class Deal(BaseModel):
    title = models.CharField(_("title"), max_length=300)
    company = models.ForeignKey(Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="deals")
    person = models.ForeignKey(
        Person, verbose_name=_("contact person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+")
    # Indexed by deals_deal_stage_idx (the list filtered by stage).
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The lines' total when the deal has lines (kept by the service), otherwise entered by hand.
    amount = models.DecimalField(_("amount, UAH"), default=ZERO, **MONEY)
    has_lines = models.BooleanField(_("amount from lines"), default=False, editable=False)
    probability = models.PositiveSmallIntegerField(_("probability, %"), default=0, validators=[MaxValueValidator(100)])
    expected_close_date = models.DateField(_("expected close"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=DealSource, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=DealStatus, default=DealStatus.OPEN)
    loss_reason = models.ForeignKey(
        LossReason, verbose_name=_("loss reason"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    loss_comment = models.TextField(_("why it was lost"), blank=True)
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    stage_changed_at = models.DateTimeField(_("in this stage since"), null=True, blank=True)
    # Optimistic locking: every save through a service increments it; a stale form's version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    objects = DealQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DealStatus.values), name="deals_deal_status_valid"),
            _not_negative("amount", "deal"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="deals_deal_probability_percent"),
            models.CheckConstraint(
                condition=~Q(status=DealStatus.LOST) | Q(loss_reason__isnull=False),
                name="deals_deal_lost_has_reason",
                violation_error_message=_("A lost deal needs a reason."),
            ),
        ]
        indexes = [
            # The kanban: open deals of one pipeline per stage (count/sum per column, first N cards).
            models.Index(
                fields=["pipeline", "stage", "-expected_close_date", "id"],
                condition=Q(status=DealStatus.OPEN),
                name="deals_deal_board_idx",
            ),
            # Lists newest first: everything (directors), or scoped by owner or team.
            models.Index(fields=["-created_at", "id"], name="deals_deal_created_idx"),
            models.Index(fields=["owner", "-created_at", "id"], name="deals_deal_owner_idx"),
            models.Index(fields=["team", "-created_at", "id"], name="deals_deal_team_idx"),
            models.Index(fields=["status", "-created_at", "id"], name="deals_deal_status_idx"),
            # The list filtered by stage (a board column's deals), newest first.
            models.Index(fields=["stage", "-created_at", "id"], name="deals_deal_stage_idx"),
            models.Index(fields=["expected_close_date"], name="deals_deal_close_idx"),
            # Work plans: won amount per owner in a period, index-only (the amount is in the index: a month of a
            # 70-person team is ~4,000 deals on ~2,000 heap pages at size L).
            models.Index(
                fields=["owner", "closed_at"],
                include=["amount"],
                condition=Q(status=DealStatus.WON),
                name="deals_deal_won_amount_idx",
            ),
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="deals_deal_title_trgm_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class DealLine(BaseModel):
    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    price = models.DecimalField(_("price, UAH"), **MONEY)
    discount_percent = models.DecimalField(_("discount, %"), default=ZERO, **PERCENT)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="deals_dealline_quantity_positive",
                violation_error_message=_("The quantity must be above zero."),
            ),
            _not_negative("price", "dealline"),
            _percent_check("discount_percent", "dealline"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class DealStageChange(ChoiceDisplayMixin, models.Model):
    """Stage history written by the service: how long a deal spent in each stage."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["deal", "changed_at"], name="deals_stagechange_deal_idx")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


# --- orders --------------------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    IN_PROGRESS = "in_progress", _("In progress")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", pgettext_lazy("order status", "Failed")


# Allowed transitions; cancelled and failed need a failure reason. Completed, cancelled and failed are final.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.NEW: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED, OrderStatus.FAILED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.IN_PROGRESS, OrderStatus.CANCELLED, OrderStatus.FAILED}),
    OrderStatus.IN_PROGRESS: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.FAILED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.FAILED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.COMPLETED, OrderStatus.FAILED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.FAILED: frozenset(),
}
OPEN_ORDER_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.SHIPPED})
FAILURE_STATUSES = frozenset({OrderStatus.CANCELLED, OrderStatus.FAILED})


class OrderSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    PORTAL = "portal", _("Customer portal")
    DEAL = "deal", _("Deal")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Not paid")
    PARTIAL = "partial", _("Partly paid")
    PAID = "paid", _("Paid")


class FailureReason(BaseModel):
    """Reference list of why orders fail or are cancelled (out of stock, payment not received, …)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("order failure reason")
        verbose_name_plural = _("order failure reasons")
        ordering = ["name"]  # backed by the unique index

    def __str__(self) -> str:
        return self.name


class OrderNumber(models.Model):
    """The last order number of a year: the order service locks the row, so numbers never repeat or skip."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order number counter")
        verbose_name_plural = _("order number counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class OrderQuerySet(ScopedQuerySet):
    pass


class Order(BaseModel):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    company = models.ForeignKey(Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="orders")
    person = models.ForeignKey(
        Person, verbose_name=_("contact person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    source = models.CharField(_("source"), max_length=8, choices=OrderSource, default=OrderSource.STAFF)
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus, default=OrderStatus.NEW)
    failure_reason = models.ForeignKey(
        FailureReason,
        verbose_name=_("failure reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    failure_comment = models.TextField(_("what went wrong"), blank=True)
    expected_date = models.DateField(_("expected delivery"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered"), null=True, blank=True)
    payment_status = models.CharField(_("payment"), max_length=8, choices=PaymentStatus, default=PaymentStatus.UNPAID)
    # Totals kept by the service from the lines (rounded per line to kopecks, then summed).
    subtotal = models.DecimalField(_("without VAT"), default=ZERO, **MONEY)
    discount_total = models.DecimalField(_("discount"), default=ZERO, **MONEY)
    vat_total = models.DecimalField(_("VAT"), default=ZERO, **MONEY)
    total = models.DecimalField(_("total"), default=ZERO, **MONEY)
    comment = models.TextField(_("comment"), blank=True)
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)
    history = HistoricalRecords()

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="deals_order_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=FAILURE_STATUSES) | Q(failure_reason__isnull=False),
                name="deals_order_failed_has_reason",
                violation_error_message=_("A cancelled or failed order needs a reason."),
            ),
            _not_negative("total", "order"),
        ]
        indexes = [
            # Order monitoring: scoped by owner / team / status, newest first (a director's unfiltered list
            # reads by primary key: selectors_orders.NEWEST_BY_ID).
            models.Index(fields=["owner", "-created_at", "id"], name="deals_order_owner_idx"),
            models.Index(fields=["team", "-created_at", "id"], name="deals_order_team_idx"),
            models.Index(fields=["status", "-created_at", "id"], name="deals_order_status_idx"),
            # "Overdue": open orders past their expected date.
            models.Index(
                fields=["expected_date", "id"],
                condition=Q(status__in=OPEN_ORDER_STATUSES),
                name="deals_order_overdue_idx",
            ),
            # A representative's / a team's overdue orders, most overdue first: selectors_orders._overdue_ids
            # walks one of these per part of the user's scope and stops at the page size.
            models.Index(
                fields=["owner", "expected_date", "id"],
                condition=Q(status__in=sorted(OPEN_ORDER_STATUSES), expected_date__isnull=False),
                name="deals_order_owner_overdue_idx",
            ),
            models.Index(
                fields=["team", "expected_date", "id"],
                condition=Q(status__in=sorted(OPEN_ORDER_STATUSES), expected_date__isnull=False),
                name="deals_order_team_overdue_idx",
            ),
            models.Index(fields=["company", "-created_at"], name="deals_order_company_idx"),
            # The loyalty rule: one company's orders in the last N days.
            models.Index(fields=["company", "created_at", "total"], name="deals_order_loyalty_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_overdue(self) -> bool:
        return bool(
            self.status in OPEN_ORDER_STATUSES and self.expected_date and self.expected_date < timezone.localdate()
        )


class OrderLine(BaseModel):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    price = models.DecimalField(_("price without VAT, UAH"), **MONEY)
    discount_percent = models.DecimalField(_("discount, %"), default=ZERO, **PERCENT)
    vat_rate = models.DecimalField(_("VAT, %"), max_digits=5, decimal_places=2, default=Decimal("20.00"))
    # Kept by the service: net = round(qty × price × (1 − discount)), vat = round(net × rate), total = net + vat.
    net_amount = models.DecimalField(_("net amount"), default=ZERO, **MONEY)
    vat_amount = models.DecimalField(_("VAT amount"), default=ZERO, **MONEY)
    total_amount = models.DecimalField(_("amount with VAT"), default=ZERO, **MONEY)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="deals_orderline_quantity_positive",
                violation_error_message=_("The quantity must be above zero."),
            ),
            _not_negative("price", "orderline"),
            _percent_check("discount_percent", "orderline"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.product_id} × {self.quantity}"


class OrderStatusChange(ChoiceDisplayMixin, models.Model):
    """Who moved the order from which status to which, when, and why (written by the service)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=OrderStatus, blank=True)
    to_status = models.CharField(max_length=16, choices=OrderStatus)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        indexes = [models.Index(fields=["order", "changed_at"], name="deals_statuschange_order_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status} → {self.to_status}"


# --- contracts -----------------------------------------------------------------------------------------


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class ServiceLevel(models.TextChoices):
    """The service level a contract buys: the service desk picks the SLA policy by it."""

    BASIC = "basic", _("Basic")
    STANDARD = "standard", _("Standard")
    PREMIUM = "premium", _("Premium")


class ContractQuerySet(ScopedQuerySet):
    pass


class Contract(BaseModel):
    number = models.CharField(_("number"), max_length=50)
    company = models.ForeignKey(Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="contracts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    amount = models.DecimalField(_("amount, UAH"), null=True, blank=True, **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=ContractStatus, default=ContractStatus.DRAFT)
    service_level = models.CharField(
        _("service level"), max_length=16, choices=ServiceLevel, default=ServiceLevel.STANDARD
    )
    signed_file = models.FileField(_("signed copy (PDF)"), upload_to="contracts/%Y/", blank=True)
    # Set once by the expiry task: the owner hears about an expiring contract only once.
    expiry_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="deals_contract_unique_number"),
            models.CheckConstraint(condition=Q(status__in=ContractStatus.values), name="deals_contract_status_valid"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="deals_contract_dates_ordered",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            _not_negative("amount", "contract"),
        ]
        indexes = [
            # The daily expiry task: active contracts ending soon, not yet announced.
            models.Index(
                fields=["ends_on"],
                condition=Q(status=ContractStatus.ACTIVE, expiry_notified_at=None),
                name="deals_contract_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


# --- suppliers -----------------------------------------------------------------------------------------


class Currency(models.TextChoices):
    UAH = "UAH", _("UAH")
    USD = "USD", _("USD")
    EUR = "EUR", _("EUR")


class SupplierProfile(BaseModel):
    """Terms of a company with the supplier role."""

    company = models.OneToOneField(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="supplier_profile"
    )
    delivery_terms = models.TextField(_("delivery terms"), blank=True)
    payment_terms = models.TextField(_("payment terms"), blank=True)
    minimum_order = models.DecimalField(_("minimum order, UAH"), null=True, blank=True, **MONEY)
    delivery_regions = ArrayField(
        models.CharField(max_length=32, choices=Region), verbose_name=_("delivery regions"), default=list, blank=True
    )
    promised_lead_days = models.PositiveSmallIntegerField(_("promised lead time, days"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supplier profile")
        verbose_name_plural = _("supplier profiles")

    def __str__(self) -> str:
        return str(self.company)


class SupplierOffer(BaseModel):
    supplier = models.ForeignKey(
        Company, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="supplier_offers"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="offers")
    supplier_sku = models.CharField(_("supplier's SKU"), max_length=50, blank=True)
    price = models.DecimalField(_("price"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency, default=Currency.UAH)
    lead_days = models.PositiveSmallIntegerField(_("lead time, days"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supplier offer")
        verbose_name_plural = _("supplier offers")
        constraints = [
            _not_negative("price", "supplieroffer"),
            _dates_ordered("supplieroffer"),
        ]
        indexes = [
            # The product's supplier comparison and the supplier page.
            models.Index(fields=["product", "supplier"], name="deals_offer_product_idx"),
            models.Index(fields=["supplier", "product"], name="deals_offer_supplier_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}: {self.product_id}"


class PurchaseDelivery(BaseModel):
    """One purchase from a supplier: ordered, promised and actual dates, quantities ordered and received."""

    supplier = models.ForeignKey(Company, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(
        SupplierOffer, verbose_name=_("offer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ordered_on = models.DateField(_("ordered"))
    promised_on = models.DateField(_("promised"))
    delivered_on = models.DateField(_("delivered"), null=True, blank=True)
    quantity_ordered = models.DecimalField(_("quantity ordered"), **QUANTITY)
    quantity_received = models.DecimalField(_("quantity received"), default=Decimal(0), **QUANTITY)

    class Meta:
        verbose_name = _("purchase delivery")
        verbose_name_plural = _("purchase deliveries")
        constraints = [
            models.CheckConstraint(
                condition=Q(promised_on__gte=F("ordered_on")),
                name="deals_delivery_promised_after_order",
                violation_error_message=_("The promised date cannot be before the order date."),
            ),
            models.CheckConstraint(
                condition=Q(delivered_on__isnull=True) | Q(delivered_on__gte=F("ordered_on")),
                name="deals_delivery_delivered_after_order",
                violation_error_message=_("The delivery date cannot be before the order date."),
            ),
            models.CheckConstraint(
                condition=Q(quantity_ordered__gt=0),
                name="deals_delivery_quantity_positive",
                violation_error_message=_("The quantity must be above zero."),
            ),
            _not_negative("quantity_received", "purchasedelivery"),
        ]
        indexes = [
            # Reliability figures per supplier, and per supplier of one product.
            models.Index(fields=["supplier", "ordered_on"], name="deals_delivery_supplier_idx"),
            models.Index(fields=["product", "supplier"], name="deals_delivery_product_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}: {self.product_id} {self.ordered_on}"
