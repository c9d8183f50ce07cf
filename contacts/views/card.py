"""The 360° card of a company or a person: forms, timeline, logging, contact points, changes, vCard, dossier."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import BaseForm
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget, trigger_client_event

from contacts import dossier, selectors, selectors_card, services
from contacts.forms import (
    CompanyForm,
    ContactPointForm,
    EmploymentForm,
    InteractionForm,
    PersonForm,
)
from contacts.models import Company, InteractionChannel, Person
from crm.htmx import HtmxHttpRequest, call_service, page_or_partial

T = TypeVar("T")


# --- helpers -------------------------------------------------------------------------------------------


def _by(request: HtmxHttpRequest, form: BaseForm) -> dict[str, Any]:
    """The service's keyword arguments from a valid form, with the user as the actor."""
    service_kwargs = getattr(form, "service_kwargs", None)
    return {"actor": request.user, **(service_kwargs() if service_kwargs else form.cleaned_data)}


def _changed(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], event: str, target: str = ""
) -> HttpResponse:
    """An HTMX write succeeded: the updated fragment (replacing `target`), the toast and an event for listeners."""
    response = render(request, template, {**context, "toast": True})
    if target:
        response = reswap(retarget(response, target), "outerHTML")
    return trigger_client_event(response, event)


def _holder_context(holder: Company | Person, points: list | None = None) -> dict[str, Any]:
    """What the contact-points fragment needs: the holder, its points and the URL that adds one."""
    is_company = isinstance(holder, Company)
    if points is None:
        points = selectors_card.points_for(**{"company" if is_company else "person": holder})
    name = "contacts:company-point-add" if is_company else "contacts:person-point-add"
    add_url = reverse(name, args=[holder.pk])
    return {"holder": holder, "points": points, "point_add_url": add_url, "detail_url": _detail_url(holder)}


def _detail_url(holder: Company | Person) -> str:
    name = "contacts:company-detail" if isinstance(holder, Company) else "contacts:person-detail"
    return reverse(name, args=[holder.pk])


def _saved(request: HtmxHttpRequest, holder: Company | Person) -> HttpResponse:
    """Back to the card; to the list when the edit handed the record to someone the user cannot follow."""
    if selectors_card.still_visible(user=request.user, holder=holder):
        return redirect(_detail_url(holder))
    messages.info(request, _("You no longer see this record: it belongs to someone else now."))
    return redirect("contacts:company-list" if isinstance(holder, Company) else "contacts:person-list")


def _interaction_initial(request: HttpRequest) -> dict[str, Any]:
    """Pre-fill from ?channel=&person=&subject= (the caller lookup links here); default: an outgoing call now."""
    channel = request.GET.get("channel", "")
    person = request.GET.get("person", "")
    return {
        "channel": channel if channel in InteractionChannel.values else InteractionChannel.CALL_OUT,
        "person": int(person) if person.isdigit() else None,
        "subject": request.GET.get("subject", "")[:300],
        "occurred_at": timezone.localtime().replace(second=0, microsecond=0),
    }


# --- companies -----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def company_create(request: HtmxHttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None, user=request.user, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        company = call_service(form, services.company_create, **_by(request, form))
        if company is not None:
            messages.success(request, _("The company is saved."))
            return redirect("contacts:company-detail", company.pk)
    context = {"form": form, "title": _("New company")}
    return page_or_partial(request, "contacts/company_form.html", "contacts/company_form.html#company-form", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def company_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get(user=request.user, pk=pk)
    context = {"company": company, "title": str(company)}  # before the form changes the instance
    form = CompanyForm(request.POST or None, user=request.user, instance=company)
    save = services.company_update
    if request.method == "POST" and form.is_valid() and call_service(form, save, company=company, **_by(request, form)):
        messages.success(request, _("The company is saved."))
        return _saved(request, company)
    context["form"] = form
    return page_or_partial(request, "contacts/company_form.html", "contacts/company_form.html#company-form", context)


@login_required
@require_GET
def company_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    card = selectors_card.company_card(
        user=request.user, pk=pk, channel=request.GET.get("channel", ""), before=request.GET.get("before", "")
    )
    context = {"card": card, "company": card.company, **_holder_context(card.company, card.points)}
    context["people_limit"] = selectors_card.CARD_PEOPLE_LIMIT
    return render(request, "contacts/company_detail.html", context)


@login_required
@require_GET
def company_people(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The People tab of a company card, loaded when it is first shown."""
    company = selectors.company_get(user=request.user, pk=pk)
    people = selectors_card.company_people(company=company)
    limit = selectors_card.CARD_PEOPLE_LIMIT
    context = {"people": people[:limit], "more_people": len(people) > limit}
    return render(request, "contacts/includes/company_people.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_timeline(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """HTMX: the timeline (a channel filter) or its next page (`before`); otherwise the card shows it."""
    company = selectors.company_get(user=request.user, pk=pk)
    return _timeline(request, company, timeline_url=reverse("contacts:company-timeline", args=[pk]), company=company)


def _timeline(request: HtmxHttpRequest, holder: Company | Person, timeline_url: str, **owner: Any) -> HttpResponse:
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(_detail_url(holder) + (f"?{query}" if query else ""))
    before = request.GET.get("before", "")
    channel = request.GET.get("channel", "")
    page = selectors_card.timeline_page(user=request.user, channel=channel, before=before, **owner)
    partial = "timeline-page" if before else "timeline"
    context = {"timeline": page, "timeline_url": timeline_url, "holder": holder, "detail_url": _detail_url(holder)}
    context["show_company"] = isinstance(holder, Person)  # a person's history may span former companies
    return render(request, f"contacts/includes/timeline.html#{partial}", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company, entries = selectors_card.company_changes(user=request.user, pk=pk)
    context = {"company": company, "holder": company, "entries": entries}
    return page_or_partial(request, "contacts/company_history.html", "contacts/includes/changes.html#changes", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def interaction_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Log a call (or any contact) from the card: HTMX prepends the new row to the timeline and closes the form."""
    company = selectors.company_get(user=request.user, pk=pk)
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = InteractionForm(*data, company=company, initial=_interaction_initial(request))
    if request.method == "POST" and form.is_valid():
        row = call_service(form, services.interaction_log, company=company, **_by(request, form))
        if row is not None:
            messages.success(request, _("The interaction is logged."))
            if not request.htmx:
                return redirect("contacts:company-detail", company.pk)
            context = {"row": selectors_card.decorate_interaction(row)}
            template = "contacts/includes/interaction_form.html#interaction-logged"
            return _changed(request, template, context, "interaction-logged")
    context = {"form": form, "company": company, "inline": bool(request.htmx)}
    page, partial = "contacts/company_interaction_form.html", "contacts/includes/interaction_form.html#interaction-form"
    return page_or_partial(request, page, partial, context)


@login_required
@require_GET
def attachment_download(request: HtmxHttpRequest, pk: int) -> FileResponse:
    """An interaction's file, always as a download (never rendered inline by the browser)."""
    attachment = selectors_card.attachment_get(user=request.user, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type)


@login_required
@require_GET
def company_dossier(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One client's dossier: card, people, last 200 interactions, as ?format=pdf (default) or xlsx."""
    data = selectors_card.company_dossier(user=request.user, pk=pk)
    fmt = request.GET.get("format", "pdf")
    if fmt == "xlsx":
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(dossier.dossier_xlsx(data), content_type=content_type)
    elif fmt == "pdf":
        response = HttpResponse(dossier.dossier_pdf(data), content_type="application/pdf")
    else:
        return HttpResponseBadRequest(_("Choose the PDF or XLSX format."))
    response["Content-Disposition"] = content_disposition_header(True, f"{data.company} {data.company.pk}.{fmt}")
    return response


@login_required
@require_GET
def company_options(request: HtmxHttpRequest) -> HttpResponse:
    """<option>s for the company picker of the person and employment forms."""
    query = request.GET.get("company_q") or request.GET.get("q", "")
    companies = selectors_card.company_options(user=request.user, query=query)
    return render(request, "contacts/includes/company_options.html", {"companies": companies})


# --- people --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def person_create(request: HtmxHttpRequest) -> HttpResponse:
    company = request.GET.get("company", "")
    initial = {"company": int(company)} if company.isdigit() else {}
    form = PersonForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        person = call_service(form, services.person_create, **_by(request, form))
        if person is not None:
            messages.success(request, _("The person is saved."))
            return redirect("contacts:person-detail", person.pk)
    context = {"form": form, "title": _("New person")}
    return page_or_partial(request, "contacts/person_form.html", "contacts/person_form.html#person-form", context)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def person_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    context = {"person": person, "title": str(person)}  # before the form changes the instance
    form = PersonForm(request.POST or None, user=request.user, instance=person)
    save = services.person_update
    if request.method == "POST" and form.is_valid() and call_service(form, save, person=person, **_by(request, form)):
        messages.success(request, _("The person is saved."))
        return _saved(request, person)
    context["form"] = form
    return page_or_partial(request, "contacts/person_form.html", "contacts/person_form.html#person-form", context)


@login_required
@require_GET
def person_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    card = selectors_card.person_card(
        user=request.user, pk=pk, channel=request.GET.get("channel", ""), before=request.GET.get("before", "")
    )
    context = {"card": card, "person": card.person, **_holder_context(card.person, card.points)}
    return render(request, "contacts/person_detail.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def person_timeline(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    return _timeline(request, person, timeline_url=reverse("contacts:person-timeline", args=[pk]), person=person)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def person_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person, entries = selectors_card.person_changes(user=request.user, pk=pk)
    context = {"person": person, "holder": person, "entries": entries}
    return page_or_partial(request, "contacts/person_history.html", "contacts/includes/changes.html#changes", context)


@login_required
@require_GET
def person_vcard(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    text = dossier.person_vcard(person, selectors_card.points_for(person=person))
    response = HttpResponse(text, content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{person}.vcf")
    return response


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def employment_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A former (or parallel) company of a person, from the person card."""
    person = selectors.person_get(user=request.user, pk=pk)
    form = EmploymentForm(request.POST or None, user=request.user)
    save = services.employment_add
    if request.method == "POST" and form.is_valid() and call_service(form, save, person=person, **_by(request, form)):
        messages.success(request, _("The former company is saved."))
        return _employments_changed(request, person)
    context = {"form": form, "person": person, "inline": bool(request.htmx)}
    page, partial = "contacts/person_employment_form.html", "contacts/includes/employments.html#employment-form"
    return page_or_partial(request, page, partial, context)


@login_required
@require_POST
def employment_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    employment = selectors_card.employment_get(user=request.user, pk=pk)
    services.employment_remove(actor=request.user, employment=employment)
    messages.success(request, _("The former company is removed."))
    return _employments_changed(request, employment.person)


def _employments_changed(request: HtmxHttpRequest, person: Person) -> HttpResponse:
    if not request.htmx:
        return redirect("contacts:person-detail", person.pk)
    context = {"person": person, "employments": selectors_card.person_employments(person=person)}
    template = "contacts/includes/employments.html#employments"
    return _changed(request, template, context, "employments-changed", "#employments")


# --- contact points ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def company_point_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get(user=request.user, pk=pk)
    return _point_add(request, company, "contacts/point_form.html", company=company)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def person_point_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    return _point_add(request, person, "contacts/point_form.html", person=person)


def _point_add(request: HtmxHttpRequest, holder: Company | Person, page: str, **owner: Any) -> HttpResponse:
    form = ContactPointForm(request.POST or None)
    save = services.contact_point_add
    if request.method == "POST" and form.is_valid() and call_service(form, save, **owner, **_by(request, form)):
        messages.success(request, _("The contact is saved."))
        return _points_changed(request, holder)
    context = {"form": form, "inline": bool(request.htmx), **_holder_context(holder)}
    return page_or_partial(request, page, "contacts/includes/contact_points.html#point-form", context)


@login_required
@require_POST
def contact_point_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    point = selectors_card.contact_point_get(user=request.user, pk=pk)
    holder = point.company or point.person
    services.contact_point_remove(actor=request.user, point=point)
    messages.success(request, _("The contact is removed."))
    return _points_changed(request, holder)


def _points_changed(request: HtmxHttpRequest, holder: Company | Person) -> HttpResponse:
    if not request.htmx:
        return redirect(_detail_url(holder))
    context = _holder_context(holder)
    template = "contacts/includes/contact_points.html#contact-points"
    return _changed(request, template, context, "contact-points-changed", "#contact-points")


urlpatterns = [
    path("companies/new/", company_create, name="company-create"),
    path("companies/options/", company_options, name="company-options"),
    path("companies/<int:pk>/", company_detail, name="company-detail"),
    path("companies/<int:pk>/edit/", company_update, name="company-update"),
    path("companies/<int:pk>/timeline/", company_timeline, name="company-timeline"),
    path("companies/<int:pk>/people/", company_people, name="company-people"),
    path("companies/<int:pk>/history/", company_history, name="company-history"),
    path("companies/<int:pk>/interactions/new/", interaction_create, name="interaction-create"),
    path("companies/<int:pk>/points/new/", company_point_add, name="company-point-add"),
    path("companies/<int:pk>/dossier/", company_dossier, name="company-dossier"),
    path("people/new/", person_create, name="person-create"),
    path("people/<int:pk>/", person_detail, name="person-detail"),
    path("people/<int:pk>/edit/", person_update, name="person-update"),
    path("people/<int:pk>/timeline/", person_timeline, name="person-timeline"),
    path("people/<int:pk>/history/", person_history, name="person-history"),
    path("people/<int:pk>/points/new/", person_point_add, name="person-point-add"),
    path("people/<int:pk>/vcard/", person_vcard, name="person-vcard"),
    path("people/<int:pk>/employments/new/", employment_add, name="employment-add"),
    path("employments/<int:pk>/remove/", employment_remove, name="employment-remove"),
    path("points/<int:pk>/remove/", contact_point_remove, name="contact-point-remove"),
    path("attachments/<int:pk>/", attachment_download, name="attachment-download"),
]
