"""A test-only owned model that exercises crm.models.ScopedQuerySet."""

from django.conf import settings
from django.db import models

from crm.models import ScopedQuerySet


class MemoQuerySet(ScopedQuerySet):
    shared_field = "is_shared"


class Memo(models.Model):
    title = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    team = models.ForeignKey("crm.Team", null=True, on_delete=models.SET_NULL)
    is_shared = models.BooleanField(default=False)

    objects = MemoQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title
