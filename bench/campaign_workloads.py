"""The campaign workloads (issue 8): starting a campaign to 10,000 people (the recipients fixed, the
suppression list read), and the dispatch job's minute slice (claim, merge, queue in the outbox) —
each beside hand-written SQL doing the same writes.

The services are called in process, as the job and the page do. Each sample starts from the same state:
what the previous sample wrote is undone between samples, outside the timing. Everything the workloads
made (the list, template, campaign, recipients, outbox messages, history, queued jobs) is deleted at the
end, so a reused data set keeps its shape.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from bench.workloads import TIME_BUDGET_S, Result, _count_queries, _percentiles
from rapport.campaigns import services
from rapport.campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    DistributionList,
    DistributionListMember,
    RecipientStatus,
)
from rapport.core.models import HistoryEntry, User
from rapport.directory.models import Contact
from rapport.mail.models import OutboxMessage
from rapport.templating.models import Template

CAMPAIGN_OWNER = "benchadmin"
RECIPIENTS = 10_000
SLICE = 1_000  # the campaign's rate: messages handed to the outbox per minute
START_TARGET = "≤ 2 s for 10,000 (once per campaign)"
SLICE_TARGET = "≤ 1.5 s per 1,000 (a minute's slice at 1,000/min)"
MAX_SAMPLES = 10  # each sample writes 1,000 messages: enough for percentiles without a long run
T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


def _sample(fn: Callable[[], Any], reset: Callable[[], Any], runs: int) -> list[float]:
    """Time fn, resetting the state before each sample (outside the timing)."""
    samples: list[float] = []
    deadline = time.perf_counter() + TIME_BUDGET_S
    for _ in range(max(3, min(runs, MAX_SAMPLES))):
        reset()
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        if len(samples) >= 3 and time.perf_counter() > deadline:
            break
    reset()
    return samples


def _result(name: str, description: str, target: str, samples: list[float], queries: int,
            raw: list[float] | None = None) -> Result:
    p50, p95, p99 = _percentiles(samples)
    result = Result(name=name, description=description, runs=len(samples), p50_ms=p50, p95_ms=p95, p99_ms=p99,
                    queries=queries, target=target)
    if raw:
        raw_p50, _p95, raw_p99 = _percentiles(raw)
        result.raw_p50_ms, result.raw_p99_ms = raw_p50, raw_p99
    return result


class _Made:
    """What the workloads create, and its removal (the benchmark is the only writer while it runs)."""

    def __init__(self) -> None:
        self.started = timezone.now()
        self.outbox = OutboxMessage.objects.aggregate(m=Max("id"))["m"] or 0
        self.history = HistoryEntry.objects.aggregate(m=Max("id"))["m"] or 0
        self.records: list[Any] = []

    def clean_up(self) -> None:
        with transaction.atomic():
            OutboxMessage.objects.filter(id__gt=self.outbox).delete()
            HistoryEntry.objects.filter(id__gt=self.history).delete()
            for record in reversed(self.records):
                type(record).objects.filter(pk=record.pk).delete()
            try:  # the wake-up jobs queued on commit (the database task backend)
                from django_tasks_db.models import DBTaskResult

                DBTaskResult.objects.filter(enqueued_at__gte=self.started, status="READY").filter(
                    task_path__in=("rapport.mail.tasks.deliver_mail",
                                   "rapport.campaigns.tasks.dispatch_campaigns")).delete()
            except (ImportError, RuntimeError):
                pass


def _setup(owner: User, made: _Made) -> Campaign:
    contacts = list(Contact.objects.visible_to(owner).exclude(email="").order_by("id")
                    .values_list("id", flat=True)[:RECIPIENTS])
    if len(contacts) < RECIPIENTS:
        raise AssertionError(f"the data set has {len(contacts)} contacts with an address; {RECIPIENTS} needed")
    distribution_list = DistributionList(owner=owner, created_by=owner, name="Bench campaign list",
                                         category="Bench")
    distribution_list.derive()
    distribution_list.save()
    made.records.append(distribution_list)
    DistributionListMember.objects.bulk_create(
        [DistributionListMember(distribution_list=distribution_list, contact_id=pk) for pk in contacts],
        batch_size=2000)
    template = Template(owner=owner, created_by=owner, name="Bench campaign template",
                        subject="News for {{ contact.first_name }} at {{ account.name }}",
                        body="Dear {{ contact.full_name }},\n\nour spring offers for {{ account.name }} in "
                             "{{ account.city }}.\n\nKind regards,\n{{ user.full_name }}\n{{ user.signature }}\n")
    template.derive()
    template.save()
    made.records.append(template)
    campaign = Campaign(owner=owner, created_by=owner, name="Bench campaign", distribution_list=distribution_list,
                        template=template, rate_per_minute=SLICE)
    campaign.derive()
    campaign.save()
    made.records.append(campaign)  # removed first: it protects its list and template
    return campaign


def _back_to_draft(campaign: Campaign, outbox_after: int) -> Callable[[], None]:
    def reset() -> None:
        with transaction.atomic():
            CampaignRecipient.objects.filter(campaign=campaign).delete()
            OutboxMessage.objects.filter(id__gt=outbox_after).delete()
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT, started_at=None,
                                                           finished_at=None)
        campaign.refresh_from_db()

    return reset


def _unclaim(campaign: Campaign, outbox_after: int) -> Callable[[], None]:
    """Undo a slice: its recipients wait again, its messages leave the outbox."""
    def reset() -> None:
        with transaction.atomic():
            CampaignRecipient.objects.filter(campaign=campaign).exclude(status=RecipientStatus.WAITING).update(
                status=RecipientStatus.WAITING, queued_at=None, outbox_message=None)
            OutboxMessage.objects.filter(id__gt=outbox_after).delete()

    return reset


def _slice_raw(campaign: Campaign) -> Callable[[], Any]:
    """The floor of a slice, by hand: read 1,000 waiting recipients, claim them in one UPDATE, insert their
    messages (the text formatted in Python from the recipient row alone) in one executemany."""
    table = CampaignRecipient._meta.db_table
    outbox = OutboxMessage._meta.db_table

    def run() -> None:
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT r.id, r.email, r.name, r.token FROM {table} r WHERE r.campaign_id = %s "
                           f"AND r.status = 'waiting' ORDER BY r.id LIMIT {SLICE}", [campaign.pk])
            rows = cursor.fetchall()
            ids = [row[0] for row in rows]
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"UPDATE {table} SET status = 'queued', queued_at = %s WHERE id IN ({marks}) "
                           f"AND status = 'waiting'", [connection.ops.adapt_datetimefield_value(now), *ids])
            moment = connection.ops.adapt_datetimefield_value(now)
            values = []
            for _id, email, name, token in rows:
                body = (f"Dear {name},\n\nour spring offers.\n\nKind regards,\nBench\n\n-- \nTo stop receiving "
                        f"these emails, unsubscribe here: https://rapport.example/unsubscribe/{token}/\n")
                values.append([secrets.token_hex(8), "campaign", "rapport@example.invalid", json.dumps([email]),
                               f"News for {name}", body, "", json.dumps({"List-Unsubscribe": f"<{token}>"}),
                               f"<{secrets.token_hex(12)}@bench>", "queued", 0, moment, "", moment])
            cursor.executemany(
                f'INSERT INTO {outbox} (public_id, kind, from_email, "to", subject, body, html_body, headers, '
                f"message_id, status, attempts, next_attempt_at, last_error, created_at) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", values)

    return run


def run_campaign_all(runs: int, size: str) -> list[Result]:
    """The campaign workloads, for bench.run."""
    # The administrator: the only user who sees all 10,000 contacts of the small data set (the campaign reads
    # its list as its owner sees it).
    owner = User.objects.get(username=CAMPAIGN_OWNER)
    made = _Made()
    results: list[Result] = []
    try:
        campaign = _setup(owner, made)
        outbox_after = made.outbox

        # 1. Start: the list as the owner sees it, one recipient per address, the suppression list read.
        reset = _back_to_draft(campaign, outbox_after)

        def start() -> None:
            services.campaign_start(actor=owner, campaign=campaign, now=T0)

        reset()
        queries = _count_queries(start)
        samples = _sample(start, reset, runs)
        results.append(_result(
            "campaign_start_10k", f"services.campaign_start: {RECIPIENTS:,} people on a static list, as "
            f"{owner.username} sees them; recipients written in batches of 500", START_TARGET, samples, queries))

        # 2. One minute's slice of the dispatch job: 1,000 recipients claimed, merged (contact, account with
        # its city, the owner's signature) and queued in the outbox in 5 transactions of 200.
        start()
        unclaim = _unclaim(campaign, outbox_after)

        def dispatch() -> None:
            handed = services.campaign_dispatch(now=T0)
            if handed != SLICE:
                raise AssertionError(f"the slice queued {handed}, not {SLICE}")

        unclaim()
        queries = _count_queries(dispatch)
        samples = _sample(dispatch, unclaim, runs)
        raw = _sample(_slice_raw(campaign), unclaim, runs)
        per_second = SLICE / (_percentiles(samples)[0] / 1000)
        results.append(_result(
            "campaign_dispatch_slice", f"services.campaign_dispatch: a {SLICE:,}-message minute of a {RECIPIENTS:,}-"
            f"recipient campaign (claim, merge, queue_email); {per_second:,.0f} messages/s", SLICE_TARGET, samples,
            queries, raw))
    finally:
        made.clean_up()
    return results
