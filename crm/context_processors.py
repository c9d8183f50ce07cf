from functools import cache

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from crm import navigation, selectors


def shell(request: HttpRequest) -> dict[str, object]:
    """Navigation and the bell's unread count for base.html.

    Callables, so a response that never renders the shell (a partial, a redirect) runs no query;
    the template engine calls them, `cache` makes repeated uses in one render cost one query.
    """
    user = getattr(request, "user", None) or AnonymousUser()  # absent on very early errors
    return {
        "nav_entries": cache(lambda: navigation.menu_for(user)),
        "unread_notifications": cache(lambda: selectors.notification_unread_count(user=user)),
        "bell_poll_seconds": settings.BELL_POLL_SECONDS,
    }
