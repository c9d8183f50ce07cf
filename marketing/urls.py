from importlib import import_module

app_name = "marketing"

# Each module in marketing/views/ owns its URLs.
VIEW_MODULES: list[str] = ["leads", "conversion", "webforms", "segments", "campaigns", "tracking", "reports", "needs"]

urlpatterns = [
    pattern for name in VIEW_MODULES for pattern in getattr(import_module(f"marketing.views.{name}"), "urlpatterns", [])
]
