"""/health/ check of the service mailbox (crm.views.HealthView names it by its dotted path)."""

import dataclasses

from asgiref.sync import sync_to_async
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable


@dataclasses.dataclass
class Mailbox(HealthCheck):
    """Unavailable while the reader of settings.SERVICE_IMAP_URL keeps failing (service.mail.mailbox_health);
    OK when it reads or no mailbox is configured. Reads MailboxState only: it never connects to IMAP."""

    async def run(self) -> None:
        from service.mail import mailbox_health

        # thread_sensitive: the request's own database connection (not one leaked by an executor thread).
        error = await sync_to_async(mailbox_health, thread_sensitive=True)()
        if error:
            raise ServiceUnavailable(error)
