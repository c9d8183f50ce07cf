"""(being written)"""

from django.http import HttpResponse
from django.urls import path


def _todo(request, pk: int = 0) -> HttpResponse:
    return HttpResponse()


urlpatterns = [
    path("tickets/", _todo, name="ticket-list"),
    path("tickets/<int:pk>/", _todo, name="ticket-detail"),
    path("companies/<int:pk>/tickets/", _todo, name="company-tickets"),
    path("people/<int:pk>/tickets/", _todo, name="person-tickets"),
]
