"""reports views (to be written)."""

urlpatterns: list = []
