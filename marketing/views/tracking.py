"""tracking views (to be written)."""

urlpatterns: list = []
