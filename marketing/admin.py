from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from marketing.models import (
    AssignmentRule,
    Attribution,
    Campaign,
    CampaignCost,
    CampaignMember,
    CampaignReport,
    CampaignReportTotal,
    ConsentEvent,
    EmailSuppression,
    Lead,
    LeadConversion,
    Segment,
    SegmentMember,
    WebForm,
)


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "status", "channel", "source", "campaign", "region", "owner", "team", "created_at"]
    list_filter = ["status", "channel", "source", "region", "team"]
    search_fields = ["last_name", "first_name", "company_name", "email", "phone", "edrpou"]
    autocomplete_fields = [
        "product", "campaign", "web_form", "matched_company", "matched_person", "owner", "team", "company",
        "person", "deal",
    ]  # fmt: skip
    date_hierarchy = "created_at"


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "position", "region", "category", "team", "is_active"]
    list_filter = ["is_active", "region", "team"]
    search_fields = ["name"]
    autocomplete_fields = ["category", "team"]


@admin.register(WebForm)
class WebFormAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "team", "campaign", "is_published", "consent_version"]
    list_filter = ["is_published", "team"]
    search_fields = ["name", "slug", "title"]
    autocomplete_fields = ["team", "campaign", "owner"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    """Append-only: entries are added by the services (and this form), never changed or deleted."""

    list_display = ["at", "channel", "is_granted", "person", "lead", "email", "source", "text_version"]
    list_filter = ["channel", "is_granted"]
    search_fields = ["email", "person__last_name", "source"]
    autocomplete_fields = ["person", "lead", "actor"]
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmailSuppression)
class EmailSuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "campaign", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    autocomplete_fields = ["campaign"]


class SegmentMemberInline(admin.TabularInline):
    model = SegmentMember
    extra = 0
    autocomplete_fields = ["company", "person"]


@admin.register(Segment)
class SegmentAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "target", "member_count", "counted_at", "owner", "team"]
    list_filter = ["kind", "target", "team"]
    search_fields = ["name"]
    autocomplete_fields = ["saved_filter", "owner", "team"]


@admin.register(SegmentMember)
class SegmentMemberAdmin(admin.ModelAdmin):
    list_display = ["segment", "company", "person"]
    list_filter = ["segment"]
    search_fields = ["segment__name", "company__name", "person__last_name"]
    autocomplete_fields = ["segment", "company", "person"]


class CampaignCostInline(admin.TabularInline):
    model = CampaignCost
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin):
    list_display = ["name", "channel", "status", "starts_on", "ends_on", "budget", "actual_cost", "owner",
                    "send_status"]  # fmt: skip
    list_filter = ["status", "channel", "send_status", "team"]
    search_fields = ["name", "utm_campaign"]
    autocomplete_fields = ["segments", "products", "owner", "team", "email_product"]
    readonly_fields = ["actual_cost", "send_total", "send_done", "launched_at", "report_computed_at"]
    inlines = [CampaignCostInline]
    date_hierarchy = "starts_on"


@admin.register(CampaignCost)
class CampaignCostAdmin(SimpleHistoryAdmin):
    list_display = ["campaign", "spent_on", "amount", "note"]
    search_fields = ["campaign__name", "note"]
    autocomplete_fields = ["campaign"]
    date_hierarchy = "spent_on"


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    list_display = ["campaign", "person", "company", "email", "status", "sent_at", "opened_at", "clicked_at"]
    list_filter = ["status"]
    search_fields = ["email", "campaign__name"]
    autocomplete_fields = ["campaign", "person", "company", "segment", "activity"]
    show_full_result_count = False  # two million rows at size L


@admin.register(Attribution)
class AttributionAdmin(admin.ModelAdmin):
    list_display = ["campaign", "touch", "kind", "lead", "deal", "order", "company", "revenue", "at"]
    list_filter = ["touch", "kind"]
    search_fields = ["campaign__name"]
    autocomplete_fields = ["campaign", "lead", "deal", "order", "company"]
    show_full_result_count = False


@admin.register(CampaignReport)
class CampaignReportAdmin(admin.ModelAdmin):
    list_display = ["campaign", "segment", "product", "region", "members", "leads", "deals_won", "revenue",
                    "computed_at"]  # fmt: skip
    list_filter = ["region"]
    search_fields = ["campaign__name"]
    autocomplete_fields = ["campaign", "segment", "product"]
    show_full_result_count = False


@admin.register(CampaignReportTotal)
class CampaignReportTotalAdmin(admin.ModelAdmin):
    list_display = ["campaign", "kind", "segment", "product", "region", "rank", "members", "leads", "deals_won",
                    "revenue", "cost", "computed_at"]  # fmt: skip
    list_filter = ["kind", "region"]
    search_fields = ["campaign__name"]
    autocomplete_fields = ["campaign", "segment", "product"]
    show_full_result_count = False


@admin.register(LeadConversion)
class LeadConversionAdmin(admin.ModelAdmin):
    list_display = ["month", "level", "dimension", "key", "team", "owner", "leads", "converted", "won", "computed_at"]
    list_filter = ["level", "dimension", "month"]
    search_fields = ["key", "owner__email", "team__name"]
    autocomplete_fields = ["team", "owner"]
    show_full_result_count = False
