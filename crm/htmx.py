"""What every HTMX view module shares: the request type, page-or-fragment rendering, service calls from forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from crm.models import User

T = TypeVar("T")


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User


def page_or_partial(request: HtmxHttpRequest, page: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    """The full page, or only its fragment for an HTMX request."""
    return render(request, partial if request.htmx else page, context)


def url_with(base: str, *queries: str) -> str:
    """`base` with the non-empty query strings joined after `?` (no `?` when all are empty)."""
    joined = "&".join(q for q in queries if q)
    return f"{base}?{joined}" if joined else base


def keyset_urls(base: str, query: str, next_cursor: str | None, *, cursor: str = "cursor") -> dict[str, str]:
    """`first_url` and `next_url` of a keyset list: its filter query kept, the next page's cursor added."""
    return {
        "first_url": url_with(base, query),
        "next_url": url_with(base, query, urlencode({cursor: next_cursor})) if next_cursor else "",
    }


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: keyed messages next to their fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields and field != NON_FIELD_ERRORS else None, errors)
    else:
        form.add_error(None, error)


def call_service(form: forms.BaseForm, service: Callable[..., T], **kwargs: Any) -> T | None:
    """Run a service; its ValidationError becomes messages next to the form's fields (and None)."""
    try:
        return service(**kwargs)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
