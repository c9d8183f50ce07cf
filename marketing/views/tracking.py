"""The e-mail send of a campaign (launch, progress) and the public links of its e-mails: the open pixel, the
click redirect and the unsubscribe page.

The public views need no login and answer 404 to any token that is not valid, never a 500 and never a
redirect to a URL we did not sign. The unsubscribe POST is CSRF-exempt: mail clients post the RFC 8058
one-click body ("List-Unsubscribe=One-Click") to the List-Unsubscribe URL without a session.
"""

from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest
from marketing import services_send, tracking
from marketing.models import Campaign, MemberStatus
from marketing.selectors_send import campaign_send_progress, unsubscribe_member

CHANGE = "marketing.change_campaign"
PANEL = "marketing/campaign_send_panel.html"
# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def campaign_launch(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user), pk=pk)
    try:
        launched = services_send.campaign_launch(campaign=campaign, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if launched:
            messages.success(request, _("The send is queued: each member gets the e-mail once."))
        else:
            messages.info(request, _("This campaign was launched already: nothing more is sent."))
    return redirect("marketing:campaign-detail", campaign.pk)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def campaign_send_progress_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    send = campaign_send_progress(user=request.user, campaign_id=pk)
    if not request.htmx:
        return redirect("marketing:campaign-detail", send.campaign.pk)
    return render(request, f"{PANEL}#send-progress", {"send": send})


@never_cache
@require_GET
def track_open(request: HttpRequest, token: str) -> HttpResponse:
    member_id = tracking.read_open_token(token)
    if member_id is None:
        raise Http404
    services_send.member_opened(member_id=member_id)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def track_click(request: HttpRequest, token: str) -> HttpResponse:
    found = tracking.read_click_token(token)
    if found is None:
        raise Http404  # tampered or hand-made: never a redirect to a URL we did not sign
    member_id, url = found
    services_send.member_clicked(member_id=member_id)
    return HttpResponseRedirect(url)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    member_id = tracking.read_unsubscribe_token(token)
    member = unsubscribe_member(member_id) if member_id is not None else None
    if member is None:
        return render(request, "marketing/unsubscribe_invalid.html", status=404)
    done = member.status == MemberStatus.UNSUBSCRIBED
    if request.method == "POST":
        ip = request.META.get("REMOTE_ADDR") or None
        done = services_send.member_unsubscribe(member_id=member.pk, ip=ip)
    return render(request, "marketing/unsubscribe.html", {"member": member, "done": done})


urlpatterns = [
    path("campaigns/<int:pk>/launch/", campaign_launch, name="campaign-launch"),
    path("campaigns/<int:pk>/send-progress/", campaign_send_progress_view, name="campaign-send-progress"),
    path("t/o/<str:token>.gif", track_open, name="track-open"),
    path("t/c/<str:token>/", track_click, name="track-click"),
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
]
