"""Knowledge base writes: the search vector of an article (both languages, weighted)."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVector
from django.db.models import TextField, Value
from django.db.models.functions import Concat

from service.models import SEARCH_CONFIG, KnowledgeArticle


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
