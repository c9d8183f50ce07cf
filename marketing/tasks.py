"""Marketing's Celery tasks: each area keeps its own module; Celery's autodiscovery imports this one."""

from marketing.tasks_campaigns import *  # noqa: F403
from marketing.tasks_reports import *  # noqa: F403
from marketing.tasks_segments import *  # noqa: F403
from marketing.tasks_send import *  # noqa: F403
