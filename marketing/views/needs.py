"""needs views (to be written)."""

urlpatterns: list = []
