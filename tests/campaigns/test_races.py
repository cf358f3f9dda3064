"""Two dispatch jobs at the same moment (two workers): every recipient is handed to the outbox once, and
the campaign's rate holds across both.

The threads use their own database connections and commit for real, so these tests run outside the
per-test transaction, on PostgreSQL (SQLite's in-memory test database answers "table is locked" at
once instead of waiting; on a real SQLite file the IMMEDIATE transactions serialize the workers).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from rapport.campaigns import services
from rapport.campaigns.models import CampaignRecipient, RecipientStatus
from rapport.mail.models import OutboxMessage
from tests.campaigns import people, static_list
from tests.conftest import restore_migration_data
from tests.factories import CampaignFactory, UserFactory

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent workers on real connections")]


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


@pytest.fixture
def started(db) -> Any:
    restore_migration_data()
    owner = UserFactory(username="racer", role_slugs="marketing")
    campaign = CampaignFactory(owner=owner, distribution_list=static_list(owner, people(owner, 500)),
                               rate_per_minute=300)
    services.campaign_start(actor=owner, campaign=campaign, now=T0)
    return campaign


def _assert_each_once(expected: int) -> None:
    queued = CampaignRecipient.objects.exclude(status=RecipientStatus.WAITING)
    assert queued.count() == expected
    assert OutboxMessage.objects.count() == expected
    assert queued.filter(outbox_message__isnull=True).count() == 0
    per_address = Counter(address for to in OutboxMessage.objects.values_list("to", flat=True) for address in to)
    assert set(per_address.values()) == {1}


def test_two_dispatchers_at_once_queue_each_recipient_once_within_the_rate(started, monkeypatch):
    original = services.message_for

    def slow(*args: Any, **kwargs: Any) -> Any:  # the first holds its chunk's transaction open longer
        time.sleep(0.002)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "message_for", slow)
    results = at_once(lambda: services.campaign_dispatch(now=T0), lambda: services.campaign_dispatch(now=T0))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 300
    _assert_each_once(300)


def test_the_claim_alone_keeps_two_racing_chunks_apart(started, monkeypatch):
    """Even without the campaign's lock (a worker that skipped it), the conditional claim decides."""
    original = services.Campaign.objects.select_for_update

    def no_lock(*args: Any, **kwargs: Any) -> Any:
        return services.Campaign.objects.all()

    monkeypatch.setattr(services.Campaign.objects, "select_for_update", no_lock)
    results = at_once(*[lambda: services.campaign_dispatch(now=T0) for _ in range(3)])
    monkeypatch.setattr(services.Campaign.objects, "select_for_update", original)
    assert not [r for r in results if isinstance(r, Exception)], results
    handed = CampaignRecipient.objects.exclude(status=RecipientStatus.WAITING).count()
    assert sum(results) == handed and handed >= 300
    _assert_each_once(handed)
