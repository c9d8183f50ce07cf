from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from deals.models import (
    Category,
    Contract,
    CustomerGroup,
    Deal,
    DealLine,
    DealStageChange,
    Discount,
    FailureReason,
    LossReason,
    LoyaltyRule,
    Order,
    OrderLine,
    OrderNumber,
    OrderStatusChange,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    PurchaseDelivery,
    Stage,
    SupplierOffer,
    SupplierProfile,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name_uk", "name_en", "parent"]
    list_filter = ["parent"]
    search_fields = ["name_uk", "name_en"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = ["sku", "name_uk", "category", "unit", "base_price", "vat_rate", "is_active", "stock_quantity"]
    list_filter = ["is_active", "vat_rate", "unit", "category"]
    search_fields = ["=sku", "name_uk", "name_en"]
    autocomplete_fields = ["category"]
    list_select_related = ["category"]
    show_full_result_count = False


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["name"]
    autocomplete_fields = ["companies"]


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    autocomplete_fields = ["product"]
    extra = 0


@admin.register(PriceList)
class PriceListAdmin(SimpleHistoryAdmin):
    list_display = ["name", "company", "customer_group", "valid_from", "valid_until", "is_active"]
    list_filter = ["is_active", "customer_group", "valid_from"]
    search_fields = ["name", "company__name"]
    autocomplete_fields = ["company", "customer_group"]
    list_select_related = ["company", "customer_group"]
    inlines = [PriceListItemInline]


@admin.register(PriceListItem)
class PriceListItemAdmin(SimpleHistoryAdmin):
    list_display = ["price_list", "product", "price"]
    list_filter = ["price_list"]
    search_fields = ["product__sku", "product__name_uk", "price_list__name"]
    autocomplete_fields = ["price_list", "product"]
    list_select_related = ["price_list", "product"]


@admin.register(Discount)
class DiscountAdmin(SimpleHistoryAdmin):
    list_display = ["company", "category", "percent", "valid_from", "valid_until"]
    list_filter = ["category", "valid_from"]
    search_fields = ["company__name", "category__name_uk"]
    autocomplete_fields = ["company", "category"]
    list_select_related = ["company", "category"]


@admin.register(LoyaltyRule)
class LoyaltyRuleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "min_orders", "min_amount", "period_days", "percent", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "is_default"]
    list_filter = ["is_default"]
    search_fields = ["name"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "pipeline", "order", "probability", "is_won", "is_lost"]
    list_filter = ["pipeline", "is_won", "is_lost"]
    search_fields = ["name", "pipeline__name"]
    autocomplete_fields = ["pipeline"]
    list_select_related = ["pipeline"]


@admin.register(LossReason, FailureReason)
class ReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


class DealLineInline(admin.TabularInline):
    model = DealLine
    autocomplete_fields = ["product"]
    extra = 0


@admin.register(Deal)
class DealAdmin(SimpleHistoryAdmin):
    list_display = ["title", "company", "stage", "status", "amount", "probability", "expected_close_date", "owner"]
    list_filter = ["status", "pipeline", "stage", "source", "loss_reason", "team"]
    search_fields = ["title", "company__name", "competitor"]
    autocomplete_fields = ["company", "person", "owner", "team", "pipeline", "stage", "loss_reason"]
    list_select_related = ["company", "stage", "owner"]
    readonly_fields = ["version", "has_lines", "closed_at", "stage_changed_at", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [DealLineInline]
    show_full_result_count = False


@admin.register(DealLine)
class DealLineAdmin(SimpleHistoryAdmin):
    list_display = ["deal", "product", "quantity", "price", "discount_percent"]
    search_fields = ["deal__title", "product__sku"]
    list_filter = ["created_at"]
    autocomplete_fields = ["deal", "product"]
    list_select_related = ["deal", "product"]
    show_full_result_count = False


@admin.register(DealStageChange)
class DealStageChangeAdmin(admin.ModelAdmin):
    list_display = ["deal", "from_stage", "to_stage", "changed_by", "changed_at"]
    list_filter = ["to_stage", "changed_at"]
    search_fields = ["deal__title"]
    autocomplete_fields = ["deal", "from_stage", "to_stage", "changed_by"]
    list_select_related = ["deal", "from_stage", "to_stage", "changed_by"]
    show_full_result_count = False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    autocomplete_fields = ["product"]
    readonly_fields = ["net_amount", "vat_amount", "total_amount"]
    extra = 0


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = ["number", "company", "status", "payment_status", "total", "expected_date", "owner", "created_at"]
    list_filter = ["status", "payment_status", "source", "failure_reason", "team"]
    search_fields = ["=number", "company__name"]
    autocomplete_fields = ["company", "person", "owner", "team", "deal", "failure_reason"]
    list_select_related = ["company", "owner"]
    readonly_fields = ["number", "subtotal", "discount_total", "vat_total", "total", "status_changed_at"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    show_full_result_count = False


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "product", "quantity", "price", "discount_percent", "total_amount"]
    search_fields = ["=order__number", "product__sku"]
    list_filter = ["vat_rate"]
    autocomplete_fields = ["order", "product"]
    list_select_related = ["order", "product"]
    show_full_result_count = False


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["order", "from_status", "to_status", "changed_by", "changed_at"]
    list_filter = ["to_status", "changed_at"]
    search_fields = ["=order__number"]
    autocomplete_fields = ["order", "changed_by"]
    list_select_related = ["order", "changed_by"]
    show_full_result_count = False


@admin.register(OrderNumber)
class OrderNumberAdmin(admin.ModelAdmin):
    list_display = ["year", "last"]
    list_filter = ["year"]
    search_fields = ["=year"]


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ["number", "company", "status", "starts_on", "ends_on", "amount", "owner"]
    list_filter = ["status", "team", "ends_on"]
    search_fields = ["number", "company__name"]
    autocomplete_fields = ["company", "owner", "team"]
    list_select_related = ["company", "owner"]
    readonly_fields = ["expiry_notified_at"]


@admin.register(SupplierProfile)
class SupplierProfileAdmin(SimpleHistoryAdmin):
    list_display = ["company", "promised_lead_days", "minimum_order"]
    list_filter = ["promised_lead_days"]
    search_fields = ["company__name"]
    autocomplete_fields = ["company"]
    list_select_related = ["company"]


@admin.register(SupplierOffer)
class SupplierOfferAdmin(SimpleHistoryAdmin):
    list_display = ["supplier", "product", "supplier_sku", "price", "currency", "lead_days", "valid_until"]
    list_filter = ["currency", "valid_until"]
    search_fields = ["supplier__name", "product__sku", "supplier_sku"]
    autocomplete_fields = ["supplier", "product"]
    list_select_related = ["supplier", "product"]
    show_full_result_count = False


@admin.register(PurchaseDelivery)
class PurchaseDeliveryAdmin(admin.ModelAdmin):
    list_display = ["supplier", "product", "ordered_on", "promised_on", "delivered_on", "quantity_ordered"]
    list_filter = ["ordered_on", "delivered_on"]
    search_fields = ["supplier__name", "product__sku"]
    autocomplete_fields = ["supplier", "product", "offer"]
    list_select_related = ["supplier", "product"]
    show_full_result_count = False
