"""campaigns views (to be written)."""

urlpatterns: list = []
