from importlib import import_module

app_name = "contacts"

# Each module in contacts/views/ owns its URLs (lists, card, search, imports, merge, ...).
VIEW_MODULES = ["lists", "card", "search", "imports", "merge", "calendar", "plans", "activities"]

urlpatterns = [
    pattern for name in VIEW_MODULES for pattern in getattr(import_module(f"contacts.views.{name}"), "urlpatterns", [])
]
