from importlib import import_module

app_name = "service"

# Each module in service/views/ owns its URLs.
VIEW_MODULES: list[str] = ["tickets", "kb", "reports", "rating"]

urlpatterns = [
    pattern for name in VIEW_MODULES for pattern in getattr(import_module(f"service.views.{name}"), "urlpatterns", [])
]
