"""Writes of campaigns: the campaign itself, its cost lines, its members (from the target groups) and the
call list of a phone campaign.

Members are added set-based (one INSERT … SELECT per target group, ON CONFLICT DO NOTHING), so adding
100k people takes seconds and running it twice adds nobody twice. The call list is one contacts.Activity
per member, round robin over the chosen callers; a done call makes its member "responded"
(campaign_call_results_sync, one UPDATE … FROM).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from itertools import cycle
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from simple_history.utils import bulk_create_with_history

from contacts.models import Activity, ActivityKind, ActivityStatus, ContactPointKind
from marketing.models import (
    Campaign,
    CampaignChannel,
    CampaignCost,
    CampaignMember,
    CampaignStatus,
    MemberStatus,
    Segment,
)
from marketing.personalise import placeholders_check

if TYPE_CHECKING:
    from crm.models import User

CHANGE = "marketing.change_campaign"
ADD = "marketing.add_campaign"
CALL_CHUNK = 1000
CALL_HOUR = time(10, 0)
# A done call answers for a member who has not gone further than this.
RESPONDABLE = (
    MemberStatus.PLANNED,
    MemberStatus.SENT,
    MemberStatus.DELIVERED,
    MemberStatus.OPENED,
    MemberStatus.CLICKED,
)
CLOSED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)


def _require(actor: User | None, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied


# --- the campaign --------------------------------------------------------------------------------------


def _validate(campaign: Campaign) -> None:
    """Field errors of the campaign (dates, budget, placeholders), keyed by field, all at once."""
    errors: dict[str, Any] = {}
    for field in ("email_subject", "email_body"):
        try:
            placeholders_check(getattr(campaign, field))
        except ValidationError as error:
            errors[field] = error
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = _("The campaign cannot end before it starts.")
    try:
        # The check constraints repeat the rules above (and budget ≥ 0, the field's validator) for every
        # other write path; here they would only come back as unkeyed duplicates.
        campaign.full_clean(exclude=["owner", "segments", "products"], validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, messages)
    if errors:
        raise ValidationError(errors)


def _relations(campaign: Campaign, segments: Sequence[Segment] | None, products: Sequence[Any] | None) -> None:
    if segments is not None:
        campaign.segments.set(segments)
    if products is not None:
        campaign.products.set(products)


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    segments: Sequence[Segment] | None = None,
    products: Sequence[Any] | None = None,
    **fields: Any,
) -> Campaign:
    """Create a campaign (the actor is responsible unless `owner` is given; the team defaults to theirs).

    Raises PermissionDenied without marketing.add_campaign; ValidationError keyed by field for an end
    before the start, a negative budget or an unknown placeholder in the subject or the text."""
    _require(actor, ADD)
    fields.setdefault("owner", actor)
    fields.setdefault("team", getattr(fields["owner"], "team", None))
    campaign = Campaign(**fields)
    _validate(campaign)
    campaign.save()
    _relations(campaign, segments, products)
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    actor: User,
    segments: Sequence[Segment] | None = None,
    products: Sequence[Any] | None = None,
    **fields: Any,
) -> Campaign:
    """Change a campaign's fields (those given); the same rules as campaign_create."""
    _require(actor, CHANGE)
    campaign = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
    for name, value in fields.items():
        setattr(campaign, name, value)
    _validate(campaign)
    campaign.save()
    _relations(campaign, segments, products)
    return campaign


@transaction.atomic
def campaign_cost_add(
    *, campaign: Campaign, actor: User | None, spent_on: date, amount: Decimal, note: str
) -> CampaignCost:
    """Add a cost line; Campaign.actual_cost becomes the sum of the lines.

    The campaign row is locked first, so two lines added at once both count (the sum is re-read under
    the lock, never added to a stale value). Raises ValidationError for a negative amount or no note."""
    _require(actor, CHANGE)
    locked = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
    if amount is None or amount < 0:
        raise ValidationError({"amount": _("A cost cannot be negative.")})
    if not (note or "").strip():
        raise ValidationError({"note": _("Say what the money was spent on.")})
    cost = CampaignCost(campaign=locked, spent_on=spent_on, amount=amount, note=note.strip())
    cost.full_clean()
    cost.save()
    locked.actual_cost = locked.costs.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    locked.save(update_fields=["actual_cost", "updated_at"])
    campaign.actual_cost = locked.actual_cost
    return cost


# --- members -------------------------------------------------------------------------------------------

# The people of one target group with their primary e-mail, company and the company's region. The
# e-mail is the person's primary e-mail contact point (else their first one), already lower-cased in
# `normalized`; LATERAL … LIMIT 1 reads contacts_cp_person_idx once per person.
MEMBERS_INSERT = """
INSERT INTO marketing_campaignmember (campaign_id, person_id, company_id, segment_id, region, email, status, error)
SELECT %s, p.id, p.company_id, %s, COALESCE(c.region, ''), COALESCE(e.normalized, ''), %s, ''
FROM contacts_person p
LEFT JOIN contacts_company c ON c.id = p.company_id
LEFT JOIN LATERAL (
    SELECT cp.normalized FROM contacts_contactpoint cp
    WHERE cp.person_id = p.id AND cp.kind = %s
    ORDER BY cp.is_primary DESC, cp.id
    LIMIT 1
) e ON TRUE
WHERE p.id IN ({people}){regions}
ON CONFLICT (campaign_id, person_id) DO NOTHING
"""


def campaign_members_add(*, campaign: Campaign, actor: User | None, notify: bool = False) -> int:
    """Add the people of the campaign's target groups as planned members; returns how many were added.

    Set-based: one INSERT … SELECT per target group (the group's query compiled into it), ON CONFLICT
    (campaign, person) DO NOTHING — running it again adds only people who joined the groups since, so a
    retried task is harmless. A person in several groups is credited to the first group (by id). With
    campaign regions set, only people whose company is in one of them are added. A group that matches
    nobody adds 0 (the caller says so). With `notify`, the actor is told the outcome (the task's way
    of answering the button). Raises PermissionDenied without marketing.change_campaign,
    ValidationError for a completed or cancelled campaign."""
    from marketing.selectors_segments import segment_people

    _require(actor, CHANGE)
    if campaign.status in CLOSED:
        raise ValidationError(_("Members cannot be added to a completed or cancelled campaign."))
    added = 0
    regions_sql = " AND c.region = ANY(%s)" if campaign.regions else ""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # JIT compiling the plan costs ~3 s and saves nothing on this index-driven INSERT … SELECT.
            cursor.execute("SET LOCAL jit = off")
        for segment in campaign.segments.order_by("id"):
            people_sql, people_params = segment_people(segment=segment).order_by().values("pk").query.sql_with_params()
            sql = MEMBERS_INSERT.format(people=people_sql, regions=regions_sql)
            params: list[Any] = [campaign.pk, segment.pk, MemberStatus.PLANNED, ContactPointKind.EMAIL]
            params += list(people_params)
            if campaign.regions:
                params.append(list(campaign.regions))
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                added += max(cursor.rowcount, 0)
        if notify and actor is not None:
            _tell_members_added(campaign, actor, added)
    return added


def _tell_members_added(campaign: Campaign, actor: User, added: int) -> None:
    from crm.services import notify as notify_user

    if added:
        title = ngettext_lazy(
            "%(count)d member added to the campaign “%(name)s”.",
            "%(count)d members added to the campaign “%(name)s”.",
            added,
        ) % {"count": added, "name": campaign.name}
    else:
        title = _(
            "Nobody was added to the campaign “%(name)s”: its target groups match nobody new "
            "(or everybody is a member already)."
        ) % {"name": campaign.name}
    notify_user(
        recipient=actor,
        title=title,
        url=reverse("marketing:campaign-detail", args=[campaign.pk]),
        kind="campaign",
        email=False,
    )


def campaign_members_add_enqueue(*, campaign: Campaign, actor: User) -> None:
    """Queue campaign_members_add for the button "Add members from the target groups" (after commit).

    Raises ValidationError when the campaign has no target groups or is closed, PermissionDenied without
    marketing.change_campaign."""
    from marketing.tasks_campaigns import campaign_members_add_task

    _require(actor, CHANGE)
    if campaign.status in CLOSED:
        raise ValidationError(_("Members cannot be added to a completed or cancelled campaign."))
    if not campaign.segments.exists():
        raise ValidationError(_("Choose the campaign's target groups first."))
    transaction.on_commit(lambda: campaign_members_add_task.delay(campaign.pk, actor.pk))


# --- the call list -------------------------------------------------------------------------------------


def _call_start(campaign: Campaign) -> datetime:
    """When the calls are due: the campaign's start (or today, if later), at 10:00 local time."""
    today = timezone.localdate()
    day = max(campaign.starts_on or today, today)
    if campaign.ends_on and day > campaign.ends_on:
        day = campaign.ends_on
    return timezone.make_aware(datetime.combine(day, CALL_HOUR))


@transaction.atomic
def campaign_call_list_create(*, campaign: Campaign, actor: User, assignees: Sequence[User]) -> int:
    """Plan one call (contacts.Activity) per member who has none yet, round robin over `assignees`.

    Each call names the campaign, the member's person and company, and is due in the campaign period;
    it points at the campaign (generic relation) and the member keeps it (CampaignMember.activity). The
    campaign row is locked, so two clicks plan each call once. Each assignee is told how many calls are
    theirs. Returns the number of calls planned. Raises ValidationError for a campaign that is not a
    phone campaign, is closed, or without an active assignee; PermissionDenied without change rights."""
    from crm.services import notify as notify_user

    _require(actor, CHANGE)
    if campaign.channel != CampaignChannel.CALLS:
        raise ValidationError(_("A call list is only for a campaign with the channel “Calls”."))
    if campaign.status in CLOSED:
        raise ValidationError(_("A completed or cancelled campaign gets no new calls."))
    callers = [user for user in assignees if user.is_active]
    if not callers:
        raise ValidationError({"assignees": _("Choose at least one team member to make the calls.")})
    locked = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
    content_type = ContentType.objects.get_for_model(Campaign)
    starts_at = _call_start(locked)
    subject = str(_("Call: %(campaign)s")) % {"campaign": locked.name}
    pending = (
        CampaignMember.objects.filter(campaign=locked, activity__isnull=True)
        .exclude(status__in=[MemberStatus.UNSUBSCRIBED, MemberStatus.SKIPPED])
        .filter(person__isnull=False)
        .order_by("id")
        .values_list("id", "person_id", "company_id")
    )
    turn = cycle(callers)
    counts: dict[int, int] = {}
    planned = 0
    last_id = 0
    while True:
        chunk = list(pending.filter(id__gt=last_id)[:CALL_CHUNK])
        if not chunk:
            break
        last_id = chunk[-1][0]
        activities = []
        for _member_id, person_id, company_id in chunk:
            caller = next(turn)
            counts[caller.pk] = counts.get(caller.pk, 0) + 1
            activities.append(
                Activity(
                    kind=ActivityKind.CALL,
                    subject=subject[:300],
                    description=locked.goal,
                    starts_at=starts_at,
                    person_id=person_id,
                    company_id=company_id,
                    content_type=content_type,
                    object_id=locked.pk,
                    assignee=caller,
                    created_by=actor,
                    team_id=caller.team_id,
                )
            )
        created = bulk_create_with_history(activities, Activity, batch_size=CALL_CHUNK, default_user=actor)
        members = [
            CampaignMember(pk=member_id, activity_id=activity.pk)
            for (member_id, _p, _c), activity in zip(chunk, created, strict=True)
        ]
        CampaignMember.objects.bulk_update(members, ["activity"], batch_size=CALL_CHUNK)
        planned += len(chunk)
    by_pk = {user.pk: user for user in callers}
    url = reverse("contacts:my-day")
    for user_pk, count in counts.items():
        notify_user(
            recipient=by_pk[user_pk],
            title=ngettext_lazy(
                "%(count)d call of the campaign “%(name)s” is yours.",
                "%(count)d calls of the campaign “%(name)s” are yours.",
                count,
            )
            % {"count": count, "name": locked.name},
            url=url,
            kind="assignment",
        )
    return planned


# Members whose call is done become "responded" (at the call's completion); set-based, bounded by the
# campaign's members that have an activity (marketing_member_status_idx narrows by campaign).
CALL_RESULTS_SYNC = """
UPDATE marketing_campaignmember m
SET status = %s, responded_at = COALESCE(a.completed_at, NOW())
FROM contacts_activity a
WHERE m.campaign_id = %s AND m.activity_id = a.id AND a.status = %s AND m.status = ANY(%s)
"""


def campaign_call_results_sync(*, campaign: Campaign) -> int:
    """Mark responded the members whose campaign call is done; returns how many changed.

    Idempotent: a member already responded (or further) is not touched again."""
    with connection.cursor() as cursor:
        cursor.execute(
            CALL_RESULTS_SYNC,
            [MemberStatus.RESPONDED, campaign.pk, ActivityStatus.DONE, [str(s) for s in RESPONDABLE]],
        )
        return max(cursor.rowcount, 0)


# --- the test send -------------------------------------------------------------------------------------


def campaign_test_send(*, campaign: Campaign, actor: User, to: str, member_id: int | None = None) -> None:
    """Send the campaign's e-mail, personalised for the chosen (or first) member, to `to` — a test.

    The same templates as the real send (marketing/email/campaign_message.html and .txt) without
    tracking: no open pixel, no click redirect, no unsubscribe token (the member's record is not touched).
    Raises ValidationError when the subject or the text is empty or has an unknown placeholder."""
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    from marketing.selectors_campaigns import campaign_preview
    from marketing.services_send import from_email

    _require(actor, CHANGE)
    errors: dict[str, Any] = {}
    for name in ("email_subject", "email_body"):
        text = getattr(campaign, name)
        if not text.strip():
            errors[name] = _("Write the e-mail's subject and text first.")
            continue
        try:
            placeholders_check(text)
        except ValidationError as error:
            errors[name] = error
    if errors:
        raise ValidationError(next(iter(errors.values())))
    preview = campaign_preview(campaign=campaign, member_id=member_id)
    subject = str(_("[Test] %(subject)s")) % {"subject": preview.subject}
    context = {
        "campaign": campaign,
        "subject": subject,
        "body_text": preview.body_text,
        "body_html": preview.body_html,
        "unsubscribe_url": "",
        "open_url": "",
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("marketing/email/campaign_message.txt", context),
        from_email=from_email(),
        to=[to],
    )
    message.attach_alternative(render_to_string("marketing/email/campaign_message.html", context), "text/html")
    message.send()
