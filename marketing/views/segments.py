"""segments views (to be written)."""

urlpatterns: list = []
