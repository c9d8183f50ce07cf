"""`{% jinja "app/name.html" key=value … %}`: a Jinja2 fragment inside a Django template.

The fragment (in `<app>/jinja2/<app>/`) is rendered by Django's Jinja2 backend with the keyword arguments
and the request (so `request.user` and `csrf_input` work) and printed as it is: Jinja2 has escaped it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context: template.Context, name: str, **values: Any) -> SafeString:
    html = get_template(name, using="jinja2").render(values, request=context.get("request"))
    return mark_safe(html)  # autoescaped by Jinja2
