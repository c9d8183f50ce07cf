"""(being written)"""

from django.http import HttpResponse
from django.urls import path


def _todo(request, pk: int = 0) -> HttpResponse:
    return HttpResponse()


urlpatterns = [path("reports/", _todo, name="reports")]
