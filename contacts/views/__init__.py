"""Views of the contacts app, one module per screen family; contacts/urls.py joins their urlpatterns."""
