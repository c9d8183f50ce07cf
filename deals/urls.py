from importlib import import_module

app_name = "deals"

# Each module in deals/views/ owns its URLs (catalogue, suppliers, deals, orders, contracts, ...).
VIEW_MODULES: list[str] = ["orders", "deals", "catalogue", "suppliers", "contracts"]

urlpatterns = [
    pattern for name in VIEW_MODULES for pattern in getattr(import_module(f"deals.views.{name}"), "urlpatterns", [])
]
