"""Core writes: notifications and user preferences."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from crm.models import Job, Notification, User


def notify(
    *,
    recipient: User,
    title: str | Promise,
    body: str | Promise = "",
    url: str = "",
    kind: str = "system",
    email: bool | None = None,
) -> Notification:
    """Put a notification in the recipient's bell and, per their preference, send it by e-mail.

    Lazy (gettext_lazy) title and body are rendered in the recipient's language. `email`
    overrides the recipient's preference. The e-mail is queued after the transaction commits.
    """
    with translation.override(recipient.language):
        notification = Notification.objects.create(
            recipient=recipient, kind=kind, title=str(title)[:255], body=str(body), url=url
        )
    wants_email = recipient.email_notifications if email is None else email
    if wants_email and recipient.email and recipient.is_active:
        from crm.tasks import notification_email_task

        notification_email_task.delay_on_commit(notification.pk)
    return notification


@transaction.atomic
def notification_send_email(*, notification_id: int) -> bool:
    """Send one notification by e-mail, at most once; returns False if already sent or gone.

    The row lock makes a second worker wait, then skip: READ COMMITTED re-checks `emailed_at`.
    A worker that dies before commit leaves `emailed_at` empty, so the retry sends it.
    """
    notification = (
        Notification.objects.select_for_update(no_key=True)
        .select_related("recipient")
        .filter(pk=notification_id, emailed_at__isnull=True)
        .first()
    )
    if notification is None:
        return False
    recipient = notification.recipient
    with translation.override(recipient.language):
        link = f"\n\n{settings.SITE_URL}{notification.url}" if notification.url else ""
        send_mail(
            subject=notification.title,
            message=f"{notification.body}{link}".strip() or notification.title,
            from_email=None,
            recipient_list=[recipient.email],
        )
    notification.emailed_at = timezone.now()
    notification.save(update_fields=["emailed_at"])
    return True


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Raises Notification.DoesNotExist for someone else's notification."""
    notification = Notification.objects.visible_to(user).get(pk=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def job_start(*, owner: User, kind: str, params: dict | None = None, total: int = 0) -> Job:
    """Create a background job; the caller queues its Celery task with `delay_on_commit(job.pk)`."""
    return Job.objects.create(owner=owner, kind=kind, params=params or {}, total=total)


def job_progress(*, job_id: int, progress: int, total: int | None = None) -> None:
    """Called from a task every few hundred rows; a plain UPDATE so the UI sees it at once."""
    fields: dict[str, object] = {"progress": progress, "status": Job.Status.RUNNING}
    if total is not None:
        fields["total"] = total
    Job.objects.filter(pk=job_id).update(**fields)


def job_finish(*, job_id: int, message: str = "", file_name: str = "", content: bytes | None = None) -> Job:
    job = Job.objects.get(pk=job_id)
    if content is not None:
        job.file.save(file_name, ContentFile(content), save=False)
    job.status = Job.Status.DONE
    job.progress = job.total or job.progress
    job.message = message
    job.save(update_fields=["status", "progress", "message", "file", "updated_at"])
    return job


def job_fail(*, job_id: int, message: str) -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, message=message)
