"""leads views (to be written)."""

urlpatterns: list = []
