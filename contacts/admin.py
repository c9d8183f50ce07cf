from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from contacts.models import (
    Activity,
    BirthdayNotice,
    CalendarFeed,
    Company,
    Consent,
    ContactPoint,
    Employment,
    Industry,
    Interaction,
    InteractionAttachment,
    Person,
    PlanDay,
    Reminder,
    SavedFilter,
    WorkPlan,
)


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    list_filter = ["created_at"]


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    fields = ["kind", "label", "value", "normalized", "is_primary"]
    readonly_fields = ["normalized"]
    extra = 0


@admin.register(Company)
class CompanyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "edrpou", "status", "region", "city", "owner", "team", "last_contact_at"]
    list_filter = ["status", "region", "size", "legal_form", "source", "team", "industry"]
    search_fields = ["name", "short_name", "=edrpou", "=tax_number"]
    autocomplete_fields = ["owner", "team", "industry"]
    list_select_related = ["owner", "team"]
    readonly_fields = ["last_contact_at", "created_at", "updated_at"]
    inlines = [ContactPointInline]
    show_full_result_count = False


class EmploymentInline(admin.TabularInline):
    model = Employment
    fk_name = "person"
    autocomplete_fields = ["company"]
    extra = 0


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0


@admin.register(Person)
class PersonAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "position", "company", "owner", "birth_day", "birth_month", "last_contact_at"]
    list_filter = ["preferred_channel", "language", "team", "birth_month"]
    search_fields = ["last_name", "first_name", "patronymic", "company__name"]
    autocomplete_fields = ["company", "owner", "team"]
    list_select_related = ["company", "owner"]
    readonly_fields = ["last_contact_at", "created_at", "updated_at"]
    inlines = [ContactPointInline, EmploymentInline, ConsentInline]
    show_full_result_count = False


@admin.register(ContactPoint)
class ContactPointAdmin(SimpleHistoryAdmin):
    list_display = ["value", "kind", "label", "company", "person", "is_primary"]
    list_filter = ["kind", "is_primary"]
    search_fields = ["=normalized", "value"]
    autocomplete_fields = ["company", "person"]
    list_select_related = ["company", "person"]
    readonly_fields = ["normalized"]
    show_full_result_count = False


@admin.register(Employment)
class EmploymentAdmin(admin.ModelAdmin):
    list_display = ["person", "company", "position", "started_on", "ended_on"]
    search_fields = ["person__last_name", "company__name"]
    list_filter = ["ended_on"]
    autocomplete_fields = ["person", "company"]
    list_select_related = ["person", "company"]


@admin.register(Consent)
class ConsentAdmin(SimpleHistoryAdmin):
    list_display = ["person", "channel", "is_granted", "given_at", "source"]
    list_filter = ["channel", "is_granted"]
    search_fields = ["person__last_name", "source"]
    autocomplete_fields = ["person"]
    list_select_related = ["person"]


class AttachmentInline(admin.TabularInline):
    model = InteractionAttachment
    fields = ["file", "name", "content_type", "size"]
    readonly_fields = ["name", "content_type", "size"]
    extra = 0


@admin.register(InteractionAttachment)
class InteractionAttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "content_type", "size", "interaction", "created_at"]
    list_filter = ["content_type", "created_at"]
    search_fields = ["name", "interaction__subject"]
    autocomplete_fields = ["interaction"]
    list_select_related = ["interaction"]


@admin.register(Interaction)
class InteractionAdmin(SimpleHistoryAdmin):
    list_display = ["subject", "channel", "direction", "occurred_at", "company", "person", "user"]
    list_filter = ["channel", "direction"]
    search_fields = ["subject", "company__name"]
    autocomplete_fields = ["company", "person", "user"]
    list_select_related = ["company", "person", "user"]
    inlines = [AttachmentInline]
    show_full_result_count = False


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ["name", "target", "owner", "team", "is_shared", "created_at"]
    list_filter = ["target", "is_shared", "team"]
    search_fields = ["name", "owner__email", "query"]
    autocomplete_fields = ["owner", "team"]
    list_select_related = ["owner", "team"]


class ReminderInline(admin.TabularInline):
    model = Reminder
    fields = ["offset", "remind_at", "sent_at", "is_late"]
    readonly_fields = ["remind_at", "sent_at", "is_late"]
    extra = 0


@admin.register(Activity)
class ActivityAdmin(SimpleHistoryAdmin):
    list_display = ["subject", "kind", "starts_at", "status", "assignment_state", "assignee", "company", "priority"]
    list_filter = ["kind", "status", "assignment_state", "priority", "is_all_day", "recurrence", "team"]
    search_fields = ["subject", "company__name", "person__last_name", "assignee__email"]
    autocomplete_fields = ["company", "person", "assignee", "created_by", "team", "series"]
    list_select_related = ["assignee", "company"]
    readonly_fields = ["interaction", "completed_at", "overdue_notified_at", "created_at", "updated_at"]
    date_hierarchy = "starts_at"
    inlines = [ReminderInline]
    show_full_result_count = False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["activity", "offset", "remind_at", "sent_at", "is_late"]
    list_filter = ["is_late", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["activity__subject"]
    autocomplete_fields = ["activity"]
    list_select_related = ["activity"]
    show_full_result_count = False


@admin.register(BirthdayNotice)
class BirthdayNoticeAdmin(admin.ModelAdmin):
    list_display = ["person", "year", "created_at"]
    list_filter = ["year"]
    search_fields = ["person__last_name", "person__first_name"]
    autocomplete_fields = ["person"]
    list_select_related = ["person"]
    show_full_result_count = False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    exclude = ["token"]


@admin.register(WorkPlan)
class WorkPlanAdmin(SimpleHistoryAdmin):
    list_display = ["user", "period", "starts_on", "calls", "meetings", "visits", "new_clients", "won_amount", "hours"]
    list_filter = ["period", "team", "starts_on"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user", "team", "created_by"]
    list_select_related = ["user"]


@admin.register(PlanDay)
class PlanDayAdmin(admin.ModelAdmin):
    """Read-only: the rows are kept by database triggers (migration 0011)."""

    list_display = ["user", "day", "calls", "meetings", "visits", "spent"]
    list_filter = ["day"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PlanDay | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PlanDay | None = None) -> bool:
        return False
