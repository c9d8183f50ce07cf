"""Knowledge base (issue acceptance item 8): full-text and trigram search, ranking, snippets, suggestions for
a ticket, "This solved it", the article pages and forms."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from service.kb import article_create, article_update
from service.models import ArticleUse, KnowledgeArticle, TicketCategory
from service.selectors_kb import (
    SnippetPart,
    article_search,
    article_suggestions,
    query_words,
    split_snippet,
)
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_catalogue import ProductFactory
from tests.service.factories import ArticleFactory, TicketFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture
def printer(db):
    return ArticleFactory(
        title_uk="Принтер не друкує",
        title_en="The printer does not print",
        problem_uk="Після оновлення драйвера принтер не друкує документи.",
        problem_en="After a driver update the printer prints nothing.",
        symptoms_uk="Завдання зависає в черзі друку.",
        solution_uk="Перевстановіть драйвер і перезапустіть службу Café Spooler.",
        solution_en="Reinstall the driver and restart the Café Spooler service.",
        is_public=False,
    )


def _titles(hits):
    return [hit.title for hit in hits]


def _search(user, query, **kwargs):
    with translation.override("uk"):
        return article_search(user=user, query=query, **kwargs)


# --- search -----------------------------------------------------------------------------------------------


def test_search_finds_ukrainian_and_english_words(agent, printer):
    ArticleFactory(title_uk="Оплата не проходить", problem_uk="Банк відхиляє картку")
    assert _titles(_search(agent, "друкує")) == ["Принтер не друкує"]
    assert _titles(_search(agent, "черзі друку")) == ["Принтер не друкує"]  # symptoms
    assert [hit.id for hit in _search(agent, "printer nothing")] == [printer.pk]  # English problem
    with translation.override("en"):
        hits = article_search(user=agent, query="драйвер")
    assert _titles(hits) == ["The printer does not print"]  # the English UI reads the English title


def test_search_ignores_accents_and_case(agent, printer):
    assert [hit.id for hit in _search(agent, "CAFE SPOOLER")] == [printer.pk]
    assert [hit.id for hit in _search(agent, "ПРИНТЕР")] == [printer.pk]


def test_search_tolerates_typos_in_titles(agent, printer):
    ArticleFactory(title_uk="Оплата не проходить")
    assert _titles(_search(agent, "принтр")) == ["Принтер не друкує"]
    assert _titles(_search(agent, "принтр не друкує")) == ["Принтер не друкує"]
    assert _titles(_search(agent, "printr")) == ["Принтер не друкує"]  # the English title, Ukrainian UI
    assert _search(agent, "пр") == []  # too short for trigrams, no such word


def test_search_ranks_title_matches_first(agent):
    solution_only = ArticleFactory(title_uk="Вхід у кабінет", solution_uk="Скиньте пароль на сторінці входу.")
    in_title = ArticleFactory(title_uk="Скинути пароль", solution_uk="Натисніть «Забули пароль?».")
    solution_only.solved_count = 50  # popularity only breaks ties
    solution_only.save(update_fields=["solved_count"])
    assert [hit.id for hit in _search(agent, "пароль")] == [in_title.pk, solution_only.pk]


def test_search_snippet_marks_the_matched_words(agent, printer):
    (hit,) = _search(agent, "драйвера")
    assert SnippetPart("драйвера", True) in hit.snippet
    assert any(not part.is_match and "оновлення" in part.text for part in hit.snippet)
    assert split_snippet("a \ue000b\ue001 c") == (
        SnippetPart("a ", False),
        SnippetPart("b", True),
        SnippetPart(" c", False),
    )


def test_search_filters_and_public_only(agent, printer):
    category = TicketCategory.objects.get(name="Гарантія і ремонт")
    product = ProductFactory()
    public = ArticleFactory(title_uk="Принтер: гарантійний ремонт", category=category, is_public=True)
    public.products.add(product)
    ArticleFactory(title_uk="Принтер: чернетка", is_published=False)
    assert {hit.id for hit in _search(agent, "принтер", category_id=category.pk)} == {public.pk}
    assert {hit.id for hit in _search(agent, "принтер", product_id=product.pk)} == {public.pk}
    assert {hit.id for hit in _search(agent, "принтер", public_only=True)} == {public.pk}
    assert {hit.id for hit in _search(AnonymousUser(), "принтер")} == {public.pk}


def test_drafts_only_for_editors(agent, owner):
    draft = ArticleFactory(title_uk="Принтер: чернетка", is_published=False)
    assert [hit.id for hit in _search(agent, "чернетка")] == [draft.pk]
    assert _search(owner, "чернетка") == []


def test_empty_query_lists_the_most_solved(agent):
    articles = [ArticleFactory() for _ in range(3)]
    for article, count in zip(articles, (2, 9, 5), strict=True):
        KnowledgeArticle.objects.filter(pk=article.pk).update(solved_count=count)
    hits = _search(agent, "  ")
    assert [hit.solved_count for hit in hits] == [9, 5, 2]
    assert hits[0].snippet == (SnippetPart("Проблема", False),)
    assert len(_search(agent, "", limit=2)) == 2


def test_query_words_are_sanitised():
    assert query_words("Принтер НЕ друкує: 'x' | y & !z (123) для _under_ принтер") == [
        "принтер",
        "друкує",
        "123",
        "under",
    ]


def test_search_survives_operator_characters(agent, printer):
    for query in ["'", "!!!", "a & | b", "(принтер", "\\", "-", '"принтер не"', "принтер or оплата"]:
        _search(agent, query)  # no syntax error from the tsquery parser
    assert [hit.id for hit in _search(agent, '"не друкує"')] == [printer.pk]


# --- suggestions --------------------------------------------------------------------------------------------


def test_suggestions_from_the_subject_and_text_of_a_ticket(agent, printer):
    ArticleFactory(title_uk="Оплата не проходить", problem_uk="Банк відхиляє картку")
    ticket = TicketFactory(subject="Не друкує принтер", description="Добрий день! Після оновлення нічого не виходить.")
    with translation.override("uk"):
        hits = article_suggestions(user=agent, ticket=ticket)
    assert _titles(hits) == ["Принтер не друкує"]
    assert hits[0].solved_url == reverse("service:article-solved", args=[ticket.pk, printer.pk])
    assert any(part.is_match for part in hits[0].snippet)
    assert article_suggestions(user=agent, ticket=TicketFactory(subject="Добрий день", description="")) == []


def test_suggestions_prefer_the_ticket_product_and_skip_drafts(agent):
    product = ProductFactory()
    plain = ArticleFactory(title_uk="Не вмикається пристрій")
    for_product = ArticleFactory(title_uk="Не вмикається пристрій")
    for_product.products.add(product)
    ArticleFactory(title_uk="Не вмикається пристрій, чернетка", is_published=False)
    ticket = TicketFactory(subject="Пристрій не вмикається", product=product)
    assert [hit.id for hit in article_suggestions(user=agent, ticket=ticket)] == [for_product.pk, plain.pk]
    for subject in ("???", "Зовсім інша справа"):  # no usable word, or none that matches
        other = TicketFactory(subject=subject, product=product)
        assert [hit.id for hit in article_suggestions(user=agent, ticket=other)] == [for_product.pk]


# --- "This solved it" ------------------------------------------------------------------------------------------


def test_solved_counts_once_per_ticket(client, agent, printer):
    ticket = TicketFactory(subject="Принтер не друкує")
    url = reverse("service:article-solved", args=[ticket.pk, printer.pk])
    client.force_login(agent)
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<li")
    assert "<html" not in body
    assert 'data-testid="kb-solved-done"' in body
    assert 'data-testid="kb-solved"' not in body
    assert response["HX-Trigger"] == "kb-article-solved"
    response = client.post(url)  # a second click, without HTMX
    assert response.status_code == 302
    assert response.url == reverse("service:ticket-detail", args=[ticket.pk])
    printer.refresh_from_db()
    assert printer.solved_count == 1
    assert ArticleUse.objects.filter(article=printer, ticket=ticket, user=agent).count() == 1
    client.post(reverse("service:article-solved", args=[TicketFactory().pk, printer.pk]))  # another ticket
    printer.refresh_from_db()
    assert printer.solved_count == 2


def test_solved_needs_a_visible_ticket_and_the_right_to_work_it(client, owner, outsider, printer):
    ticket = TicketFactory(company=CompanyFactory(owner=owner))
    url = reverse("service:article-solved", args=[ticket.pk, printer.pk])
    client.force_login(outsider)
    assert client.post(url).status_code == 404  # cannot see the ticket
    client.force_login(owner)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # a sales rep reads tickets but does not work them
    assert client.post(reverse("service:article-solved", args=[ticket.pk, 999999])).status_code == 404
    printer.refresh_from_db()
    assert printer.solved_count == 0
    assert not ArticleUse.objects.exists()


def test_suggestions_partial_renders_marks_and_buttons(rf, agent, printer):
    from django.template.loader import render_to_string

    ticket = TicketFactory(subject="Принтер не друкує")
    request = rf.get("/", HTTP_HOST="testserver")
    request.user = agent
    with translation.override("uk"):
        html = render_to_string(
            "service/includes/kb_suggestions.html#kb-suggestions",
            {"ticket": ticket, "suggestions": article_suggestions(user=agent, ticket=ticket)},
            request=request,
        )
    assert "<mark>друкує</mark>" in html
    assert f'data-kb-url="http://testserver/service/kb/{printer.pk}/"' in html
    assert 'data-kb-title="Принтер не друкує"' in html
    assert 'target="_blank"' in html
    assert "js/kb_insert.js" in html
    assert f'hx-post="/service/tickets/{ticket.pk}/articles/{printer.pk}/solved/"' in html


def test_card_loads_its_suggestions_lazily(client, agent, service_desk, printer, django_assert_max_num_queries):
    ticket = TicketFactory(team=service_desk, subject="Принтер не друкує")
    client.force_login(agent)
    url = reverse("service:ticket-suggestions", args=[ticket.pk])
    card = client.get(reverse("service:ticket-detail", args=[ticket.pk])).content.decode()
    assert f'hx-get="{url}"' in card
    assert "js/kb_insert.js" in card  # outside the swapped part: htmx does not run the scripts it swaps in
    assert 'data-testid="kb-suggestion"' not in card
    with django_assert_max_num_queries(10):
        response = client.get(url, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="kb-suggestions"' in body
    assert f'id="kb-suggestion-{printer.pk}"' in body
    assert "<html" not in body
    assert client.get(url).url == reverse("service:ticket-detail", args=[ticket.pk])  # without htmx: the card


def test_suggestions_of_a_ticket_the_user_does_not_see_are_404(client, other_agent, outsider, service_desk, printer):
    ticket = TicketFactory(team=service_desk, subject="Принтер не друкує")
    url = reverse("service:ticket-suggestions", args=[ticket.pk])
    for stranger in (other_agent, outsider):
        client.force_login(stranger)
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404


# --- pages --------------------------------------------------------------------------------------------------


def test_kb_list_and_search_pages(client, agent, printer, django_assert_max_num_queries):
    for n in range(3):
        ArticleFactory(title_uk=f"Принтер: питання {n}", solution_uk="Перезапустіть принтер.")
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("service:kb"))
    assert response.status_code == 200
    assert len(response.context["hits"]) == 4
    with django_assert_max_num_queries(12):
        response = client.get(reverse("service:kb"), {"q": "принтер"})
    assert len(response.context["hits"]) == 4
    with django_assert_max_num_queries(12):
        response = client.get(reverse("service:kb"), {"q": "принтр"})  # the trigram fallback: one more query
    assert len(response.context["hits"]) == 4
    assert "<mark>" in client.get(reverse("service:kb"), {"q": "перезапустіть"}).content.decode()


def test_kb_search_htmx_returns_the_results_only(client, agent, printer):
    client.force_login(agent)
    response = client.get(reverse("service:kb"), {"q": "driver"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="kb-results"')
    assert "<html" not in body
    assert "kb-search-form" not in body
    assert "The printer does not print" in body
    assert response["Vary"]
    assert "HX-Request" in response["Vary"]


def test_kb_pages_escape_article_text(client, agent):
    article = ArticleFactory(
        title_uk="<script>alert(1)</script> Принтер",
        problem_uk="Принтер <img src=x onerror=alert(2)> зламаний",
        solution_uk="<b>жирний</b> текст",
    )
    agent.language = "uk"
    agent.save(update_fields=["language"])
    client.force_login(agent)
    for page in (
        client.get(reverse("service:kb"), {"q": "принтер"}),
        client.get(reverse("service:kb"), {"q": "<script>"}),
    ):
        html = page.content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    html = client.get(reverse("service:kb"), {"q": "принтер"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Принтер" in html
    html = client.get(reverse("service:kb-article", args=[article.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b&gt;жирний&lt;/b&gt;" in html


def test_kb_article_page(client, owner, printer, django_assert_max_num_queries):
    product = ProductFactory(name_en="LaserJet 100")
    printer.products.add(product)
    client.force_login(owner)  # a sales rep reads the base
    with django_assert_max_num_queries(12):
        response = client.get(reverse("service:kb-article", args=[printer.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "The printer does not print" in html
    assert "After a driver update the printer prints nothing." in html
    assert "Завдання зависає в черзі друку." in html  # no English symptoms: the Ukrainian ones
    assert "Reinstall the driver" in html
    assert "LaserJet 100" in html
    assert product.sku in html
    assert 'data-testid="kb-internal"' in html
    assert 'data-testid="edit-article"' not in html
    assert client.get(reverse("service:kb-article", args=[999999])).status_code == 404


def test_kb_access(client, owner, readonly, printer):
    client.force_login(readonly)
    assert client.get(reverse("service:kb")).status_code == 403
    assert client.get(reverse("service:kb-article", args=[printer.pk])).status_code == 403
    client.force_login(owner)
    assert client.get(reverse("service:kb")).status_code == 200
    assert client.get(reverse("service:kb-create")).status_code == 403
    assert client.post(reverse("service:kb-create"), {"title_uk": "x"}).status_code == 403
    assert client.get(reverse("service:kb-update", args=[printer.pk])).status_code == 403
    assert client.post(reverse("service:kb-update", args=[printer.pk]), {"title_uk": "x"}).status_code == 403
    printer.refresh_from_db()
    assert printer.title_uk == "Принтер не друкує"
    assert KnowledgeArticle.objects.count() == 1


def _form_data(**changes):
    data = {
        "title_uk": "Не приходить лист із паролем",
        "title_en": "",
        "problem_uk": "Клієнт не отримує листа для скидання пароля.",
        "problem_en": "",
        "symptoms_uk": "",
        "symptoms_en": "",
        "solution_uk": "Перевірте папку «Спам» і адресу в профілі.",
        "solution_en": "Check the spam folder.",
        "category": "",
        "products": "",
        "is_public": "on",
        "is_published": "on",
    }
    data.update(changes)
    return data


def test_kb_create_and_update_through_the_forms(client, agent):
    product = ProductFactory()
    client.force_login(agent)
    assert client.get(reverse("service:kb-create")).status_code == 200
    response = client.post(reverse("service:kb-create"), _form_data(products=f" {product.sku}, "))
    article = KnowledgeArticle.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("service:kb-article", args=[article.pk])
    assert (article.author, article.is_public, list(article.products.all())) == (agent, True, [product])
    assert [hit.id for hit in _search(agent, "спам")] == [article.pk]  # indexed
    assert article.history.get().history_user == agent

    url = reverse("service:kb-update", args=[article.pk])
    assert product.sku in client.get(url).content.decode()
    response = client.post(url, _form_data(title_uk="Лист зі скиданням пароля губиться", is_public=""))
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title_uk, article.is_public, article.products.count()) == (
        "Лист зі скиданням пароля губиться",
        False,
        0,
    )
    assert [hit.id for hit in _search(agent, "губиться")] == [article.pk]  # re-indexed
    assert article.history.count() == 2
    assert "губиться" in client.get(reverse("service:kb-article", args=[article.pk])).content.decode()


def test_kb_form_shows_errors_and_saves_nothing(client, agent):
    client.force_login(agent)
    response = client.post(reverse("service:kb-create"), _form_data(problem_uk="  "))
    assert response.status_code == 200
    html = response.content.decode()
    field = html.index('name="problem_uk"')
    error = html.index("invalid-feedback", field)
    assert error < html.index('name="symptoms_uk"')  # the message sits right after the problem field
    assert not KnowledgeArticle.objects.exists()
    response = client.post(reverse("service:kb-create"), _form_data(products="NO-SUCH-SKU"), headers=HTMX)
    html = response.content.decode()
    assert "NO-SUCH-SKU" in html
    assert "<html" not in html
    assert 'id="kb-form"' in html
    assert not KnowledgeArticle.objects.exists()


# --- services -----------------------------------------------------------------------------------------------


def test_article_services_check_permission_and_fields(agent, owner, printer):
    fields = {"title_uk": "Нова", "problem_uk": "П", "solution_uk": "Р"}
    with pytest.raises(PermissionDenied):
        article_create(actor=owner, **fields)
    with pytest.raises(PermissionDenied):
        article_update(article=printer, actor=owner, title_uk="Інша")
    with pytest.raises(ValidationError) as error:
        article_create(actor=agent, **{**fields, "solution_uk": ""})
    assert "solution_uk" in error.value.message_dict
    assert KnowledgeArticle.objects.count() == 1
    article = article_update(article=printer, actor=agent, title_en="Printing stopped")
    assert article.title_en == "Printing stopped"
    assert article.title_uk == "Принтер не друкує"
    with translation.override("en"):
        assert _titles(article_search(user=agent, query="stopped")) == ["Printing stopped"]
