"""A one-query page for the QueryCountMiddleware test."""

from django.http import HttpResponse
from django.urls import path

from contacts.models import Company


def companies(request):
    found = list(Company.objects.filter(name__startswith="A").values("id")[:5])
    return HttpResponse(f"{len(found)} companies")


urlpatterns = [path("companies/", companies)]
