from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from crm import views
from crm.forms import LoginForm

app_patterns = [
    path("", views.home, name="home"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/bell/", views.notification_bell, name="notification-bell"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notification_read_all, name="notification-read-all"),
    path("account/notifications/", views.notification_preferences, name="notification-preferences"),
    path("teams/", views.team_list, name="team-list"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/download/", views.job_download, name="job-download"),
    path("language/", views.language_set, name="language-set"),
]

urlpatterns = [
    path("", include((app_patterns, "crm"))),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("contacts/", include("contacts.urls")),
    path("sales/", include("deals.urls")),
    path("service/", include("service.urls")),
    path("marketing/", include("marketing.urls")),
    path("admin/", admin.site.urls),
    path("health/", views.HealthView.as_view(), name="health"),
]

if settings.BENCH:
    urlpatterns.append(path("bench/floor/", login_required(views.bench_floor), name="bench-floor"))
