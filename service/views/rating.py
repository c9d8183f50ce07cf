"""The client's rating page, opened from the link in the "your request is resolved" e-mail: no login, the
signed token names the ticket; one rating per resolution."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from crm.htmx import add_service_errors
from service import services
from service.forms import RatingForm


@require_http_methods(["GET", "POST"])
def ticket_rate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = services.rating_ticket(token)
    except ValidationError as error:
        return render(request, "service/rating.html", {"invalid": error.messages[0]}, status=404)
    form = RatingForm(request.POST or None, initial={"rating": request.GET.get("rating")})
    done = ticket.csat_rating is not None
    if request.method == "POST" and not done and form.is_valid():
        try:
            ticket = services.ticket_rate(
                token=token, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
            )
            done = True
        except ValidationError as error:
            add_service_errors(form, error)
    status = 422 if request.method == "POST" and not done else 200
    return render(request, "service/rating.html", {"ticket": ticket, "form": form, "done": done}, status=status)


urlpatterns = [path("rate/<str:token>/", ticket_rate, name="ticket-rate")]
