"""Reads of the knowledge base: search, suggestions for a ticket, the article page.

Search runs websearch_to_tsquery in the crm_simple_unaccent configuration (simple + unaccent: no stemming,
accents and case ignored) against `search_vector` (GIN service_article_search_idx), ranked by ts_rank, where
titles weigh A, problem and symptoms B, the solution C. When that finds fewer than FALLBACK_BELOW articles,
trigram word similarity on UPPER(title_uk) / UPPER(title_en) (GIN service_art_title_*_trgm_idx) adds the
near misses of a typo. An empty query lists the most-solved articles (service_article_popular_idx). Every
read is bounded by LIMIT; nothing is counted.

Texts follow the UI language: English when the UI is English and the English text is filled in, else
Ukrainian. Snippets come from ts_headline with private-use markers and are split here into (text, is_match)
parts: the template marks the matches, so stored text is escaped like any other value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, TrigramWordSimilarity
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, QuerySet, TextField, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Concat, Greatest, Left, NullIf, Upper
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import get_language

from crm.history import ChangeEntry, history_entries, latest_records, load_names
from crm.models import User
from deals.selectors_catalogue import localized
from service.models import SEARCH_CONFIG, ArticleUse, KnowledgeArticle, Ticket, TicketCategory

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from deals.models import Product

# ts_headline wraps matches in these (Unicode private-use characters, absent from real text).
START, STOP = "\ue000", "\ue001"
SEARCH_MIN_LENGTH = 3  # trigram matching of shorter strings finds noise
QUERY_MAX_LENGTH = 200
FALLBACK_BELOW = 5  # full-text hits under which the trigram search adds near misses
SUGGESTION_WORDS = 30  # distinct words of a ticket that feed its suggestions
SUGGESTION_TEXT = 2000  # characters of the ticket's description read for them
SNIPPET_WORDS = 30
CHANGES_LIMIT = 50
CHANGE = "service.change_knowledgearticle"
# Frequent words that say nothing about a problem: in an OR query they would match half the base.
_STOPWORDS_TEXT = """
але або адже аби без біля вам вас ваш ваша ваше вже все всі від вона вони воно все для його зараз
коли котрий лише між мене мені мій мою наш наша наше нам нас них нею ним при про після
так там тим тих тобто тому тут цей цим цих цього цю ця через чим чого щоб щодо яка яке які який якщо
ваші наші добрий день дякую будь ласка прошу потрібно підкажіть можна може має маємо and are but can
could for from had has have hello her his how its not our out please thanks thank that the their
them then there these they this was were what when which who why will with would you your
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")


class SnippetPart(NamedTuple):
    text: str
    is_match: bool


@dataclass(frozen=True)
class ArticleHit:
    """One article in a result list: display strings and URLs, ready to render."""

    id: int
    title: str
    url: str
    category: str
    is_public: bool
    is_published: bool
    solved_count: int
    snippet: tuple[SnippetPart, ...]
    solved_here: bool = False  # suggestions: "This solved it" was already counted for this ticket
    solved_url: str = ""  # suggestions: where "This solved it" posts


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _text(name: str) -> Combinable:
    """`<name>_en` in an English UI when it is filled in, else `<name>_uk` (per row, in SQL)."""
    if _english():
        return Coalesce(
            NullIf(F(f"{name}_en"), Value(""), output_field=TextField()), F(f"{name}_uk"), output_field=TextField()
        )
    return F(f"{name}_uk")


def _body() -> Concat:
    space = Value("\n")
    return Concat(_text("problem"), space, _text("symptoms"), space, _text("solution"), output_field=TextField())


def _headline(query: SearchQuery) -> SearchHeadline:
    """The best two fragments of the article's text around the query's words (ts_headline runs only on the
    LIMITed rows: PostgreSQL evaluates costly select-list functions after the sort)."""
    return SearchHeadline(
        _body(),
        query,
        config=SEARCH_CONFIG,
        start_sel=START,
        stop_sel=STOP,
        max_words=SNIPPET_WORDS,
        min_words=12,
        max_fragments=2,
        fragment_delimiter=" … ",
    )


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text.replace(START, "").replace(STOP, ""))


def split_snippet(headline: str) -> tuple[SnippetPart, ...]:
    """ts_headline's text with START/STOP markers → parts, the matched ones flagged."""
    parts: list[SnippetPart] = []
    head, *marked = headline.split(START)
    pieces = [(head, False)]
    for chunk in marked:
        match, _stop, rest = chunk.partition(STOP)
        pieces += [(match, True), (rest, False)]
    for text, is_match in pieces:
        text = _clean(text)
        if text:
            parts.append(SnippetPart(text, is_match))
    return tuple(parts)


def _plain_snippet(text: str) -> tuple[SnippetPart, ...]:
    text = Truncator(_clean(text).strip()).words(SNIPPET_WORDS)
    return (SnippetPart(text, False),) if text else ()


_VALUES = ("id", "title_uk", "title_en", "is_public", "is_published", "solved_count", "category__name")


def _hit(row: dict[str, Any], *, ticket: Ticket | None = None, english: bool) -> ArticleHit:
    # "headline": ts_headline with markers (a text search); "opening": the start of the problem (a list).
    headline = row.get("headline")
    snippet = split_snippet(headline) if headline is not None else _plain_snippet(row.get("opening") or "")
    return ArticleHit(
        id=row["id"],
        title=(english and row["title_en"]) or row["title_uk"],
        url=reverse("service:kb-article", args=[row["id"]]),
        category=row["category__name"] or "",
        is_public=row["is_public"],
        is_published=row["is_published"],
        solved_count=row["solved_count"],
        snippet=snippet,
        solved_here=bool(row.get("solved_here")),
        solved_url=reverse("service:article-solved", args=[ticket.pk, row["id"]]) if ticket else "",
    )


def _articles(
    user: User | AnonymousUser, *, category_id: Any = None, product_id: Any = None, public_only: bool = False
) -> QuerySet[KnowledgeArticle]:
    """Articles the user may read; drafts only for editors (and never in a public list)."""
    qs = KnowledgeArticle.objects.visible_to(user)
    if public_only:
        qs = qs.public()
    elif not user.has_perm(CHANGE):
        qs = qs.filter(is_published=True)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if product_id:
        qs = qs.filter(Exists(_with_product(product_id)))
    return qs


def _with_product(product_id: Any) -> QuerySet:
    through = KnowledgeArticle.products.through
    return through.objects.filter(knowledgearticle_id=OuterRef("pk"), product_id=product_id)


def _or_query(words: list[str]) -> SearchQuery:
    """to_tsquery of 'w1' | 'w2' | …: the words are letters and digits only, quoted, so none is an operator."""
    return SearchQuery(" | ".join(f"'{word}'" for word in words), search_type="raw", config=SEARCH_CONFIG)


def query_words(text: str, *, limit: int = SUGGESTION_WORDS) -> list[str]:
    """Distinct words of 3+ letters or digits, stop words left out, in order of appearance."""
    words: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if 3 <= len(word) <= 50 and word not in STOPWORDS:
            words.setdefault(word, None)
            if len(words) == limit:
                break
    return list(words)


def article_search(
    *,
    user: User | AnonymousUser,
    query: str,
    category_id: int | str | None = None,
    product_id: int | str | None = None,
    public_only: bool = False,
    limit: int = 20,
) -> list[ArticleHit]:
    """Articles matching `query` (web-search syntax: "phrase", or, -word), best first, at most `limit`;
    without a query the most-solved ones. `public_only`: what a client may read (the portal)."""
    english = _english()
    query = " ".join(query.split())[:QUERY_MAX_LENGTH]
    articles = _articles(user, category_id=category_id, product_id=product_id, public_only=public_only)
    if not query:
        rows = articles.annotate(opening=Left(_text("problem"), 400)).order_by("-solved_count", "id")
        return [_hit(row, english=english) for row in rows.values(*_VALUES, "opening")[:limit]]

    tsquery = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    found = (
        articles.filter(search_vector=tsquery)
        .annotate(rank=SearchRank(F("search_vector"), tsquery), headline=_headline(tsquery))
        .order_by("-rank", "-solved_count", "id")
        .values(*_VALUES, "headline")
    )
    hits = [_hit(row, english=english) for row in found[:limit]]
    if len(hits) < min(limit, FALLBACK_BELOW) and len(query) >= SEARCH_MIN_LENGTH:
        hits += _similar_titles(articles, query, exclude=[hit.id for hit in hits], limit=limit - len(hits))
    return hits


def _similar_titles(
    articles: QuerySet[KnowledgeArticle], query: str, *, exclude: list[int], limit: int
) -> list[ArticleHit]:
    """Titles containing something like the query (a typo, a word cut short): UPPER(title) %> UPPER(query)
    is what the trigram indexes on UPPER(title_uk) / UPPER(title_en) serve; best word similarity first."""
    needle = Upper(Value(query))
    similar = TrigramWordSimilar(Upper("title_uk"), needle) | TrigramWordSimilar(Upper("title_en"), needle)
    similarity = Greatest(
        TrigramWordSimilarity(needle, Upper("title_uk")),
        TrigramWordSimilarity(needle, Upper("title_en")),
        output_field=FloatField(),
    )
    words = query_words(query)
    rows = articles.filter(similar).exclude(pk__in=exclude).annotate(similarity=similarity)
    if words:  # the correctly spelt words of the query are still marked in the snippet
        rows = rows.annotate(headline=_headline(_or_query(words)))
        values = rows.order_by("-similarity", "-solved_count", "id").values(*_VALUES, "headline")
    else:
        rows = rows.annotate(opening=Left(_text("problem"), 400))
        values = rows.order_by("-similarity", "-solved_count", "id").values(*_VALUES, "opening")
    english = _english()
    return [_hit(row, english=english) for row in values[:limit]]


def _ticket_words(ticket: Ticket) -> list[str]:
    return query_words(f"{ticket.subject} {(ticket.description or '')[:SUGGESTION_TEXT]}")


def article_suggestions(*, user: User, ticket: Ticket, limit: int = 5) -> list[ArticleHit]:
    """Published articles for a ticket the caller fetched through Ticket.objects.visible_to(user): any word
    of its subject and description (an OR tsquery ranked by ts_rank), boosted when the article covers the
    ticket's product or category; when no word matches, the most-solved articles of its product / category.
    Each hit says whether it was already counted for this ticket."""
    articles = _articles(user).filter(is_published=True)
    articles = articles.annotate(solved_here=Exists(ArticleUse.objects.filter(article=OuterRef("pk"), ticket=ticket)))
    related = _related(ticket)
    words = _ticket_words(ticket)
    english = _english()
    hits: list[ArticleHit] = []
    if words:
        tsquery = _or_query(words)
        boosts = (Case(When(condition, then=Value(weight)), default=Value(0.0)) for condition, weight in related)
        rows = (
            articles.filter(search_vector=tsquery)
            .annotate(score=SearchRank(F("search_vector"), tsquery) + sum(boosts, Value(0.0)))
            .annotate(headline=_headline(tsquery))
            .order_by("-score", "-solved_count", "id")
            .values(*_VALUES, "solved_here", "headline")
        )
        hits = [_hit(row, ticket=ticket, english=english) for row in rows[:limit]]
    if not hits and related:
        condition = Q()
        for part, _weight in related:
            condition |= part
        rows = (
            articles.filter(condition)
            .annotate(opening=Left(_text("problem"), 400))
            .order_by("-solved_count", "id")
            .values(*_VALUES, "solved_here", "opening")
        )
        hits = [_hit(row, ticket=ticket, english=english) for row in rows[:limit]]
    return hits


def _related(ticket: Ticket) -> list[tuple[Q, float]]:
    """Conditions an article meets when it covers the ticket's product / category, with their rank boost."""
    related: list[tuple[Q, float]] = []
    if ticket.product_id:
        related.append((Q(Exists(_with_product(ticket.product_id))), 0.2))
    if ticket.category_id:
        related.append((Q(category_id=ticket.category_id), 0.1))
    return related


def article_suggestion(*, user: User, ticket: Ticket, pk: int) -> ArticleHit:
    """One suggestion of a ticket again (after "This solved it"), with the ticket's words marked; Http404
    when the article is not readable."""
    articles = _articles(user).filter(pk=pk)
    articles = articles.annotate(solved_here=Exists(ArticleUse.objects.filter(article=OuterRef("pk"), ticket=ticket)))
    words = _ticket_words(ticket)
    if words:
        rows = articles.annotate(headline=_headline(_or_query(words))).values(*_VALUES, "solved_here", "headline")
    else:
        rows = articles.annotate(opening=Left(_text("problem"), 400)).values(*_VALUES, "solved_here", "opening")
    row = get_object_or_404(rows)
    return _hit(row, ticket=ticket, english=_english())


def kb_ticket_get(*, user: User, pk: int) -> Ticket:
    """The ticket a "This solved it" is for, if the user sees it; Http404 otherwise."""
    return get_object_or_404(Ticket.objects.visible_to(user), pk=pk)


def article_get(*, user: User | AnonymousUser, pk: int) -> KnowledgeArticle:
    """An article the user may read (staff: every one, clients: public ones); Http404 otherwise."""
    return get_object_or_404(KnowledgeArticle.objects.visible_to(user).select_related("category", "author"), pk=pk)


@dataclass(frozen=True)
class ProductLine:
    name: str
    sku: str


@dataclass(frozen=True)
class ArticlePage:
    article: KnowledgeArticle
    title: str
    problem: str
    symptoms: str
    solution: str
    category: str
    products: list[ProductLine]
    changes: list[ChangeEntry]


_FK_MODELS: dict[str, type] = {"category": TicketCategory, "author": User}
_HIDDEN = {"id", "created_at", "updated_at", "search_vector", "solved_count"}


def article_page(*, user: User | AnonymousUser, pk: int) -> ArticlePage:
    """The article card in the UI language, its products and its latest field changes; Http404 when the
    article is not readable."""
    article = article_get(user=user, pk=pk)
    products: list[Product] = list(article.products.order_by("name_uk", "pk"))
    records = latest_records(article.history.all(), CHANGES_LIMIT + 1)
    changes = history_entries(records, limit=CHANGES_LIMIT, names=load_names(records, _FK_MODELS), hidden=_HIDDEN)
    return ArticlePage(
        article=article,
        title=localized(article, "title"),
        problem=localized(article, "problem"),
        symptoms=localized(article, "symptoms"),
        solution=localized(article, "solution"),
        category=article.category.name if article.category else "",
        products=[ProductLine(localized(product, "name"), product.sku) for product in products],
        changes=changes,
    )
