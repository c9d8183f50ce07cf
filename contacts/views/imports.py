"""Import of companies and people: upload → column mapping → dry-run preview → import (Celery job)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from contacts import imports
from crm.models import Job
from crm.selectors import job_get


class ImportUploadForm(forms.Form):
    target = forms.ChoiceField(
        label=_("The file holds"), choices=imports.Target.choices, initial=imports.Target.COMPANY,
        widget=forms.RadioSelect,
    )  # fmt: skip
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or Windows-1251, separated by commas or semicolons) or XLSX, up to 20 MB. "
            "The first row holds the column names."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class ImportMappingForm(forms.Form):
    """One select per column of the file, pre-set to the field guessed from the column's name."""

    def __init__(self, *args: Any, job: Job, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        params = job.params
        choices = [("", _("— skip this column —")), *imports.field_choices(params["target"])]
        for index, header in enumerate(params["headers"]):
            sample = " · ".join(row[index] for row in params["sample"] if index < len(row) and row[index])
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=params["mapping"][index],
                help_text=_("For example: %(sample)s") % {"sample": sample[:120]} if sample else "",
            )  # fmt: skip

    def mapping(self) -> list[str]:
        return [self.cleaned_data[f"col_{index}"] for index in range(len(self.fields))]


def _import_job(request: HttpRequest, pk: int) -> Job:
    """The user's own import job: 403 for a user who may not import, 404 for anyone else's job."""
    if not imports.can_import(request.user):
        raise PermissionDenied
    job = job_get(user=request.user, job_id=pk)
    if job.kind != imports.JOB_KIND:
        raise Http404
    return job


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    if not imports.can_import(request.user):
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if form.is_valid():
        try:
            job = imports.import_upload(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("contacts:import-map", pk=job.pk)
    return render(request, "contacts/import_upload.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def import_map(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_job(request, pk)
    if not imports.can_remap(job):
        return redirect("contacts:import-preview", pk=job.pk)
    form = ImportMappingForm(request.POST or None, job=job)
    if form.is_valid():
        try:
            imports.import_check(actor=request.user, job=job, mapping=form.mapping())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("contacts:import-preview", pk=job.pk)
    return render(request, "contacts/import_map.html", {"form": form, "job": job})


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run's result; while the check runs, the partial polls itself."""
    job = _import_job(request, pk)
    stage = job.params.get("stage")
    if stage == imports.Stage.MAPPING:
        return redirect("contacts:import-map", pk=job.pk)
    if stage in {imports.Stage.IMPORTING, imports.Stage.IMPORTED}:
        return redirect("crm:job-detail", pk=job.pk)
    template = "contacts/import_preview.html#import-preview" if request.htmx else "contacts/import_preview.html"
    return render(request, template, {"job": job, **imports.preview_context(job)})


@login_required
@require_http_methods(["POST"])
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_job(request, pk)
    try:
        imports.import_confirm(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("contacts:import-preview", pk=job.pk)
    return redirect("crm:job-detail", pk=job.pk)


urlpatterns = [
    path("imports/", import_upload, name="import-upload"),
    path("imports/<int:pk>/map/", import_map, name="import-map"),
    path("imports/<int:pk>/preview/", import_preview, name="import-preview"),
    path("imports/<int:pk>/confirm/", import_confirm, name="import-confirm"),
]
