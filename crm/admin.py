from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.models import Notification, Team, User

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
        (_("Profile"), {"fields": ["full_name", "phone", "language", "team", "email_notifications"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "manager", "created_at"]
    search_fields = ["name", "manager__full_name", "manager__email"]
    list_filter = ["created_at"]
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
