from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from crm.auth_tokens import token_issue_key, token_revoke
from crm.models import IntegrationToken, Job, Notification, NotificationPreference, Team, User

admin.site.site_header = _("CRM administration")
admin.site.site_title = _("CRM")
admin.site.index_title = _("Users, roles and reference data")


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "team", "language", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups", "team", "language"]
    search_fields = ["email", "full_name", "phone"]
    autocomplete_fields = ["team"]
    list_select_related = ["team"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["full_name", "phone", "language", "team"]}),
        (_("Notifications"), {"fields": ["email_notifications", "quiet_hours_start", "quiet_hours_end"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "manager", "share_birthdays", "created_at"]
    search_fields = ["name", "manager__full_name", "manager__email"]
    list_filter = ["share_birthdays", "created_at"]
    autocomplete_fields = ["manager"]
    list_select_related = ["manager"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["title", "recipient__email", "recipient__full_name"]
    autocomplete_fields = ["recipient"]
    list_select_related = ["recipient"]
    show_full_result_count = False  # no COUNT(*) over a large table on every page


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "in_app", "by_email"]
    list_filter = ["kind", "in_app", "by_email"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


class TokenStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("active", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    """Keys for machine clients (the phone system). The key is generated on save and shown once."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [TokenStatusFilter, "created_at", "last_used_at"]
    search_fields = ["name", "=prefix", "user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: IntegrationToken | None = None) -> list[str]:
        if obj is None:
            return ["name", "user"]
        return ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: IntegrationToken | None = None) -> list[str]:
        if obj is None:
            return []
        # Who a token acts as is fixed: issue a new token instead of widening an old one.
        return ["user", "prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: IntegrationToken, form: object, change: bool) -> None:
        key = None if change else token_issue_key(obj)
        super().save_model(request, obj, form, change)
        if key:
            self.message_user(
                request,
                _("The key of “%(name)s” is shown only now; copy it into the client: %(key)s")
                % {"name": obj.name, "key": key},
                messages.SUCCESS,
            )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[IntegrationToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token_revoke(token=token)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)) % {"count": len(tokens)},
            messages.SUCCESS,
        )


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "kind", "status", "progress", "total", "created_at"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["kind", "owner__email", "message"]
    autocomplete_fields = ["owner"]
    list_select_related = ["owner"]
    readonly_fields = ["progress", "total", "created_at", "updated_at"]
