import pytest
from django.urls import reverse

from crm import services
from crm.models import Job

pytestmark = pytest.mark.django_db


def test_job_progress_page_polls_until_done(client, owner, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    job = services.job_start(owner=owner, kind="company_export", total=10)
    services.job_progress(job_id=job.pk, progress=4)
    client.force_login(owner)
    page = client.get(reverse("crm:job-detail", args=[job.pk]))
    assert page.status_code == 200
    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert 'data-percent="40"' in page.content.decode()

    services.job_finish(job_id=job.pk, message="10 rows", file_name="companies.csv", content=b"a,b\n")
    partial = client.get(reverse("crm:job-detail", args=[job.pk]), headers={"HX-Request": "true"})
    assert "every 1s" not in partial.content.decode()
    assert b"<html" not in partial.content
    download = client.get(reverse("crm:job-download", args=[job.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"a,b\n"


def test_failed_job_shows_its_message(client, owner):
    job = services.job_start(owner=owner, kind="contacts_import")
    services.job_fail(job_id=job.pk, message="The file is empty.")
    client.force_login(owner)
    content = client.get(reverse("crm:job-detail", args=[job.pk])).content.decode()
    assert "The file is empty." in content
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED


def test_someone_elses_job_is_404(client, owner, outsider):
    job = services.job_start(owner=outsider, kind="company_export")
    client.force_login(owner)
    assert client.get(reverse("crm:job-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("crm:job-download", args=[job.pk])).status_code == 404
