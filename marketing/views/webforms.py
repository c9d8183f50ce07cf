"""webforms views (to be written)."""

urlpatterns: list = []
