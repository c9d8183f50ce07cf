"""Knowledge base (issue acceptance item 8): search and list, the article page, create and edit forms,
and "This solved it" on a ticket's suggested articles (the ticket card includes
service/includes/kb_suggestions.html#kb-suggestions).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest, call_service
from service import kb, selectors_kb, services
from service.forms_kb import ArticleForm, KbSearchForm
from service.models import KnowledgeArticle

VIEW, ADD, CHANGE = "service.view_knowledgearticle", kb.ADD, kb.CHANGE
LIST_LIMIT = 20


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def kb_list(request: HtmxHttpRequest) -> HttpResponse:
    form = KbSearchForm(request.GET)
    search = form.search_kwargs()
    hits = selectors_kb.article_search(user=request.user, limit=LIST_LIMIT, **search)
    context = {"form": form, "hits": hits, "query": search["query"], "list_url": reverse("service:kb")}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "service/kb_list.html" + ("#kb-results" if partial else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def kb_article(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    page = selectors_kb.article_page(user=request.user, pk=pk)
    return render(request, "service/kb_article.html", {"page": page, "entries": page.changes})


def _form_page(request: HtmxHttpRequest, form: ArticleForm, article: KnowledgeArticle | None) -> HttpResponse:
    title = str(article) if article else _("New article")
    context = {"form": form, "article": article, "title": title}
    return render(request, "service/kb_form.html" + ("#kb-form" if request.htmx else ""), context)


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def kb_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        article = call_service(form, kb.article_create, actor=request.user, **form.service_kwargs())
        if article is not None:
            messages.success(request, _("The article is saved."))
            return redirect("service:kb-article", article.pk)
    return _form_page(request, form, None)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def kb_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = selectors_kb.article_get(user=request.user, pk=pk)
    form = ArticleForm(request.POST if request.method == "POST" else None, instance=article)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        if call_service(form, kb.article_update, article=article, actor=request.user, **kwargs) is not None:
            messages.success(request, _("The article is saved."))
            return redirect("service:kb-article", pk)
    return _form_page(request, form, article)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def article_solved(request: HtmxHttpRequest, ticket_pk: int, pk: int) -> HttpResponse:
    """ "This solved it" for a ticket the user sees (404 otherwise; 403 without service.change_ticket)."""
    ticket = selectors_kb.kb_ticket_get(user=request.user, pk=ticket_pk)
    article = selectors_kb.article_get(user=request.user, pk=pk)
    counted = services.article_mark_solved(article=article, ticket=ticket, actor=request.user)
    if not request.htmx:
        text = _("Counted: the article solved this ticket.") if counted else _("The article was already counted.")
        messages.success(request, text)
        return redirect("service:ticket-detail", ticket.pk)
    hit = selectors_kb.article_suggestion(user=request.user, ticket=ticket, pk=pk)
    response = render(request, "service/includes/kb_suggestions.html#kb-suggestion", {"ticket": ticket, "hit": hit})
    response["HX-Trigger"] = "kb-article-solved"
    return response


urlpatterns = [
    path("kb/", kb_list, name="kb"),
    path("kb/new/", kb_create, name="kb-create"),
    path("kb/<int:pk>/", kb_article, name="kb-article"),
    path("kb/<int:pk>/edit/", kb_update, name="kb-update"),
    path("tickets/<int:ticket_pk>/articles/<int:pk>/solved/", article_solved, name="article-solved"),
]
