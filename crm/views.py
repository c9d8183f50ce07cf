from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event
from health_check.views import HealthCheckView

from crm import selectors, services
from crm.forms import NotificationPreferencesForm
from crm.models import Notification

NOTIFICATIONS_CHANGED = "notifications-changed"


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    latest, _next = selectors.notification_list(user=request.user, limit=5)
    return render(request, "crm/home.html", {"latest_notifications": latest})


@login_required
@require_GET
@vary_on_headers("HX-Request")
def notification_list(request: HttpRequest) -> HttpResponse:
    before = request.GET.get("before")
    rows, next_cursor = selectors.notification_list(
        user=request.user, before=int(before) if before and before.isdigit() else None
    )
    template = "crm/notification_list.html"
    if request.htmx:
        template += "#notification-page"
    return render(request, template, {"notifications": rows, "next_cursor": next_cursor})


@login_required
@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    return render(request, "crm/includes/bell.html")


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    if request.htmx:
        response = render(request, "crm/notification_list.html#notification-row", {"n": notification})
        return trigger_client_event(response, NOTIFICATIONS_CHANGED)
    if request.POST.get("open") and notification.url:
        return _safe_redirect(request, notification.url, "crm:notification-list")
    return redirect("crm:notification-list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_all_read(user=request.user)
    if request.htmx:
        response = HttpResponse(headers={"HX-Refresh": "true"})
        return trigger_client_event(response, NOTIFICATIONS_CHANGED)
    return redirect("crm:notification-list")


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Channels per notification kind and quiet hours of the current user (their own settings only)."""
    form = NotificationPreferencesForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_preferences_save(user=request.user, **form.service_kwargs())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Notification settings saved."))
            if not request.htmx:
                return redirect("crm:notification-preferences")
    template = "crm/notification_preferences.html" + ("#preferences-form" if request.htmx else "")
    return render(request, template, {"form": form})


@login_required
@require_GET
@vary_on_headers("HX-Request")
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of an import or export; the partial polls itself until the job ends."""
    job = selectors.job_get(user=request.user, job_id=pk)
    template = "crm/job_detail.html#job-progress" if request.htmx else "crm/job_detail.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = selectors.job_get(user=request.user, job_id=pk)
    if not job.file:
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])


@login_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    return render(request, "crm/team_list.html", {"teams": selectors.team_list(user=request.user)})


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; remembered on the user's profile and in a cookie."""
    language = request.POST.get("language", "")
    response = _safe_redirect(request, request.POST.get("next", ""), "crm:home")
    if request.user.is_authenticated:
        try:
            services.user_set_language(user=request.user, language=language)
        except ValidationError:
            return response
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.HTTPS,
        )
    return response


def _safe_redirect(request: HttpRequest, url: str, fallback: str) -> HttpResponseRedirect:
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return HttpResponseRedirect(url)
    return redirect(fallback)


class HealthView(HealthCheckView):
    """Database, Redis, Celery workers and the service mailbox: 200 when all are up, 503 naming the failing part."""

    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        ("health_check.contrib.redis.Redis", {"client_factory": lambda: _redis_client()}),
        "health_check.contrib.celery.Ping",
        "service.health.Mailbox",  # a string: crm does not import service at module level
    )

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


def _redis_client():
    from redis.asyncio import Redis

    return Redis.from_url(settings.REDIS_URL)


@require_http_methods(["GET"])
def bench_floor(request: HttpRequest) -> HttpResponse:
    """The benchmark's floor: a bare keyset list of 50 rows of one indexed table (BENCH=1 only)."""
    rows, next_cursor = selectors.notification_list(
        user=request.user, before=int(request.GET["before"]) if request.GET.get("before", "").isdigit() else None
    )
    return render(request, "crm/bench_floor.html", {"rows": rows, "next_cursor": next_cursor})
