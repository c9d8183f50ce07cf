from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from service.models import (
    ArticleUse,
    Escalation,
    InboundEmail,
    KnowledgeArticle,
    MailboxState,
    ServiceDailyRollup,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketNumber,
    TicketStatusChange,
)


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "service_level", "is_default", "business_hours_only", "day_starts", "day_ends", "is_active"]
    list_filter = ["is_active", "service_level", "business_hours_only"]
    search_fields = ["name"]
    inlines = [SlaTargetInline]


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ["policy", "priority", "first_response_minutes", "resolution_minutes"]
    list_filter = ["policy", "priority"]
    search_fields = ["policy__name"]
    autocomplete_fields = ["policy"]


class TicketMessageInline(admin.StackedInline):
    model = TicketMessage
    extra = 0
    fields = ["kind", "author", "person", "from_email", "body_text", "message_id", "created_at", "emailed_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(SimpleHistoryAdmin):
    list_display = [
        "number",
        "subject",
        "company",
        "status",
        "priority",
        "assignee",
        "team",
        "resolution_due_at",
        "first_response_breached",
        "resolution_breached",
        "csat_rating",
    ]
    list_filter = [
        "status",
        "priority",
        "channel",
        "category",
        "team",
        "first_response_breached",
        "resolution_breached",
    ]
    search_fields = ["=number", "subject", "company__name"]
    autocomplete_fields = ["company", "person", "contract", "order", "product", "assignee", "team", "previous"]
    list_select_related = ["company", "assignee", "team"]
    readonly_fields = ["number", "escalated_at", "created_at", "updated_at"]
    show_full_result_count = False
    inlines = [TicketMessageInline]


@admin.register(TicketStatusChange)
class TicketStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["ticket", "from_status", "to_status", "changed_by", "changed_at"]
    list_filter = ["to_status"]
    search_fields = ["=ticket__number"]
    autocomplete_fields = ["ticket", "changed_by"]
    list_select_related = ["ticket", "changed_by"]
    show_full_result_count = False


@admin.register(TicketMessage)
class TicketMessageAdmin(SimpleHistoryAdmin):
    list_display = ["ticket", "kind", "author", "from_email", "created_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["=ticket__number", "=message_id", "from_email"]
    autocomplete_fields = ["ticket", "author", "person"]
    list_select_related = ["ticket", "author"]
    show_full_result_count = False


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "message", "content_type", "size", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["name", "=message__ticket__number"]
    autocomplete_fields = ["message"]
    show_full_result_count = False


@admin.register(TicketNumber)
class TicketNumberAdmin(admin.ModelAdmin):
    list_display = ["year", "last"]
    search_fields = ["=year"]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["ticket", "recipient", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["=ticket__number", "recipient__email"]
    autocomplete_fields = ["ticket", "recipient"]
    list_select_related = ["ticket", "recipient"]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_email", "subject", "outcome", "ticket"]
    list_filter = ["outcome", "received_at"]
    search_fields = ["=message_id", "from_email", "subject"]
    autocomplete_fields = ["ticket"]
    list_select_related = ["ticket"]
    show_full_result_count = False


@admin.register(MailboxState)
class MailboxStateAdmin(admin.ModelAdmin):
    list_display = ["name", "last_uid", "last_ok_at", "failures", "last_error_at"]
    list_filter = ["last_ok_at"]
    search_fields = ["name"]


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(SimpleHistoryAdmin):
    list_display = ["title_uk", "title_en", "category", "is_public", "is_published", "solved_count", "updated_at"]
    list_filter = ["is_public", "is_published", "category"]
    search_fields = ["title_uk", "title_en"]
    autocomplete_fields = ["category", "products", "author"]
    list_select_related = ["category"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from service.kb import article_index

        article_index(article_id=obj.pk)


@admin.register(ArticleUse)
class ArticleUseAdmin(admin.ModelAdmin):
    list_display = ["article", "ticket", "user", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["=ticket__number", "article__title_uk"]
    autocomplete_fields = ["article", "ticket", "user"]
    list_select_related = ["article", "ticket", "user"]


@admin.register(ServiceDailyRollup)
class ServiceDailyRollupAdmin(admin.ModelAdmin):
    list_display = ["day", "team", "agent", "category", "product", "created", "resolved", "sla_kept", "csat_count"]
    list_filter = ["day", "team", "category"]
    search_fields = ["agent__email", "team__name"]
    autocomplete_fields = ["team", "agent", "category", "product"]
    list_select_related = ["team", "agent", "category", "product"]
    show_full_result_count = False
