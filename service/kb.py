"""Knowledge base writes: articles (create, update) and their search vector (both languages, weighted).

The reads (search, suggestions for a ticket) are in service.selectors_kb."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.postgres.search import SearchVector
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Concat

from service.models import SEARCH_CONFIG, KnowledgeArticle

if TYPE_CHECKING:
    from crm.models import User


def search_vector() -> SearchVector:
    """Titles weigh A, problem and symptoms B, the solution C: what the article is about ranks first."""
    space = Value(" ")
    return (
        SearchVector(Concat("title_uk", space, "title_en", output_field=TextField()), weight="A", config=SEARCH_CONFIG)
        + SearchVector(
            Concat(
                "problem_uk", space, "problem_en", space, "symptoms_uk", space, "symptoms_en", output_field=TextField()
            ),
            weight="B",
            config=SEARCH_CONFIG,
        )
        + SearchVector(
            Concat("solution_uk", space, "solution_en", output_field=TextField()), weight="C", config=SEARCH_CONFIG
        )
    )


def article_index(*, article_id: int) -> None:
    """Recompute one article's search vector (every write path calls it: the service, the admin, the seed)."""
    KnowledgeArticle.objects.filter(pk=article_id).update(search_vector=search_vector())


# --- article writes -----------------------------------------------------------------------------------------

ADD, CHANGE = "service.add_knowledgearticle", "service.change_knowledgearticle"
FIELDS = (
    "title_uk",
    "title_en",
    "problem_uk",
    "problem_en",
    "symptoms_uk",
    "symptoms_en",
    "solution_uk",
    "solution_en",
    "category",
    "is_public",
    "is_published",
)
# Not the user's to validate: the vector is computed after the save, the author may be a deleted user.
_NOT_VALIDATED = ["search_vector", "author", "solved_count"]


def _save(article: KnowledgeArticle, fields: dict[str, Any], actor: User) -> KnowledgeArticle:
    for name in FIELDS:
        if name in fields:
            value = fields[name]
            setattr(article, name, value.strip() if isinstance(value, str) else value)
    article.full_clean(exclude=_NOT_VALIDATED)
    article._history_user = actor  # type: ignore[attr-defined]  # simple-history: who, outside a request too
    article.save()
    if "products" in fields:
        article.products.set(list(fields["products"] or []))
    article_index(article_id=article.pk)
    return article


@transaction.atomic
def article_create(*, actor: User, **fields: Any) -> KnowledgeArticle:
    """A new article written by the actor, indexed for search.

    Fields: FIELDS plus `products` (an iterable of Product). Raises PermissionDenied without
    service.add_knowledgearticle; ValidationError keyed by field (a missing title, problem or solution).
    """
    if not actor.has_perm(ADD):
        raise PermissionDenied
    return _save(KnowledgeArticle(author=actor), fields, actor)


@transaction.atomic
def article_update(*, article: KnowledgeArticle, actor: User, **fields: Any) -> KnowledgeArticle:
    """Change an article's fields (absent ones keep their value; `products` replaces the set) and re-index it.

    The row is re-read under a lock, so two editors never lose each other's fields. Raises PermissionDenied
    without service.change_knowledgearticle; ValidationError keyed by field.
    """
    if not actor.has_perm(CHANGE):
        raise PermissionDenied
    locked = KnowledgeArticle.objects.visible_to(actor).select_for_update(no_key=True).filter(pk=article.pk).first()
    if locked is None:
        raise PermissionDenied
    _save(locked, fields, actor)
    for field in locked._meta.concrete_fields:
        setattr(article, field.attname, getattr(locked, field.attname))
    return article
