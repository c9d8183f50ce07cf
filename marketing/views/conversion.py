"""conversion views (to be written)."""

urlpatterns: list = []
