"""Core writes: notifications and user preferences."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from crm.models import Job, Notification, NotificationKind, NotificationPreference, User


def notify(
    *,
    recipient: User,
    title: str | Promise,
    body: str | Promise = "",
    url: str = "",
    kind: str = "system",
    email: bool | None = None,
    now: datetime | None = None,
) -> Notification:
    """Record a notification for the recipient and deliver it per their preferences.

    The row is always created (it is the delivery record); with "in the bell" off for this kind it
    is created already read. E-mail follows the kind's preference, else `User.email_notifications`;
    `email` overrides both. The e-mail is queued after the transaction commits, and during the
    recipient's quiet hours it is queued for the end of them (the bell shows at once).
    Lazy (gettext_lazy) title and body are rendered in the recipient's language.
    """
    now = now or timezone.now()
    preference = (
        NotificationPreference.objects.filter(user=recipient, kind=kind).first()
        if kind in NotificationKind.values
        else None
    )
    in_app = preference.in_app if preference else True
    wants_email = email if email is not None else (preference.by_email if preference else recipient.email_notifications)
    with translation.override(recipient.language):
        notification = Notification.objects.create(
            recipient=recipient,
            kind=kind,
            title=str(title)[:255],
            body=str(body),
            url=url,
            read_at=None if in_app else now,
        )
    if wants_email and recipient.email and recipient.is_active:
        from crm.tasks import notification_email_task

        eta = quiet_hours_end(user=recipient, at=now)
        if eta is None:
            notification_email_task.delay_on_commit(notification.pk)
        else:
            pk = notification.pk
            transaction.on_commit(lambda: notification_email_task.apply_async((pk,), eta=eta))
    return notification


def quiet_hours_end(*, user: User, at: datetime) -> datetime | None:
    """The moment the user's quiet hours (Europe/Kyiv wall time, may wrap midnight) end, if `at` is in them."""
    start, end = user.quiet_hours_start, user.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(at)
    moment = local.time()
    quiet = start <= moment < end if start < end else (moment >= start or moment < end)
    if not quiet:
        return None
    end_day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=local.tzinfo)


@transaction.atomic
def notification_preferences_save(
    *,
    user: User,
    channels: dict[str, tuple[bool, bool]],
    email_notifications: bool,
    quiet_hours_start: time | None,
    quiet_hours_end: time | None,
) -> User:
    """Store the user's channels per kind ({kind: (in_app, by_email)}) and quiet hours.

    Raises ValidationError (keyed by field) for half-set or empty quiet hours or an unknown kind.
    """
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        field = "quiet_hours_end" if quiet_hours_end is None else "quiet_hours_start"
        raise ValidationError({field: _("Set both the start and the end of the quiet hours, or neither.")})
    if quiet_hours_start is not None and quiet_hours_start == quiet_hours_end:
        raise ValidationError({"quiet_hours_end": _("The quiet hours must end at another time than they start.")})
    unknown = set(channels) - set(NotificationKind.values)
    if unknown:
        raise ValidationError(_("Unknown notification kind: %(kinds)s.") % {"kinds": ", ".join(sorted(unknown))})
    for kind, (in_app, by_email) in channels.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"in_app": in_app, "by_email": by_email}
        )
    user.email_notifications = email_notifications
    user.quiet_hours_start = quiet_hours_start
    user.quiet_hours_end = quiet_hours_end
    user.save(update_fields=["email_notifications", "quiet_hours_start", "quiet_hours_end"])
    return user


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
