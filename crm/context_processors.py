from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from crm import navigation, selectors


def shell(request: HttpRequest) -> dict[str, object]:
    """Navigation and the bell's unread count for base.html; computed only when rendered."""
    user = request.user
    return {
        "nav_items": SimpleLazyObject(lambda: navigation.items_for(user)),
        "unread_notifications": SimpleLazyObject(lambda: selectors.notification_unread_count(user=user)),
    }
