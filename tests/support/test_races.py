"""Two people acting on the same item at the same moment: one wins, the other is told why (409).

The threads use their own database connections and commit for real, so these tests run outside the
per-test transaction. SQLite's test database is in memory with a shared cache, whose table locks answer
"database table is locked" at once instead of waiting: the races run on PostgreSQL (`make test` runs
the suite there too), where the item's row lock (SELECT … FOR UPDATE) makes the second one wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapport.core.errors import Conflict, StaleVersion
from rapport.core.models import User
from rapport.mail.models import OutboxMessage
from rapport.support import services
from rapport.support.models import PrivateCopy, RequestState, SupportItem, SupportRequest, SupportStatus
from tests.conftest import restore_migration_data
from tests.factories import UserFactory
from tests.support import Desk, build_desk, open_item

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# How long the first one holds the item's lock, so that the second one surely arrives while it does.
HOLD = 0.3

pytestmark = pytest.mark.django_db(transaction=True)
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent writers on real connections")


@pytest.fixture
def desk(db) -> Desk:
    restore_migration_data()  # a test outside a transaction before this one emptied the tables
    return build_desk()


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever gets the lock first keeps it a moment longer (its transaction is still open)."""
    for name in ("_ensure_private_copy", "_mail_request", "_mail_declined"):
        original = getattr(services, name)

        def held(*args: Any, _original: Callable = original, **kwargs: Any) -> Any:
            time.sleep(HOLD)
            return _original(*args, **kwargs)

        monkeypatch.setattr(services, name, held)


def at_once(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run the calls in threads released together; ("ok", result) or ("error", exception) for each."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("none", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def user(pk: int) -> User:
    return User.objects.get(pk=pk)  # each thread its own object (rights are cached on it)


def accept_in_thread(user_id: int, request_id: int) -> Callable[[], SupportRequest]:
    return lambda: services.support_accept(actor=user(user_id), request=SupportRequest.objects.get(pk=request_id))


def decline_in_thread(user_id: int, request_id: int) -> Callable[[], SupportRequest]:
    return lambda: services.support_decline(actor=user(user_id), request=SupportRequest.objects.get(pk=request_id),
                                            reason="Too busy")


def assign_in_thread(user_id: int, item_id: int, recipient_id: int, **kwargs: Any) -> Callable[[], SupportRequest]:
    return lambda: services.support_assign(actor=user(user_id), item=SupportItem.objects.get(pk=item_id),
                                           recipient=user(recipient_id), **kwargs)


def split(results: list[tuple[str, Any]]) -> tuple[list[Any], list[Exception]]:
    wins = [value for outcome, value in results if outcome == "ok"]
    losses = [value for outcome, value in results if outcome == "error"]
    return wins, losses


@postgres_only
def test_two_accepts_of_one_request_one_wins(desk, slow):
    item = open_item(desk)
    request = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    wins, losses = split(at_once(accept_in_thread(desk.asa.pk, request.pk), accept_in_thread(desk.asa.pk, request.pk)))
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], Conflict), repr(losses[0])
    request.refresh_from_db()
    assert request.state == RequestState.ACCEPTED
    item.refresh_from_db()
    assert item.status == SupportStatus.IN_PROGRESS and item.assignee == desk.asa
    assert PrivateCopy.objects.filter(item=item, holder=desk.asa).count() == 1


@postgres_only
def test_an_accept_and_a_decline_at_once_one_wins(desk, slow):
    item = open_item(desk)
    request = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    results = at_once(accept_in_thread(desk.asa.pk, request.pk), decline_in_thread(desk.asa.pk, request.pk))
    wins, losses = split(results)
    assert len(wins) == 1 and len(losses) == 1 and isinstance(losses[0], Conflict), results
    request.refresh_from_db()
    item.refresh_from_db()
    if request.state == RequestState.ACCEPTED:
        assert (item.status, item.assignee) == (SupportStatus.IN_PROGRESS, desk.asa)
        assert not OutboxMessage.objects.filter(kind="support_declined").exists()
    else:
        assert request.state == RequestState.DECLINED
        assert (item.status, item.assignee) == (SupportStatus.NEW, None)
        assert not PrivateCopy.objects.filter(item=item, holder=desk.asa).exists()


@postgres_only
def test_two_managers_assigning_at_once_one_request_waits(desk, slow):
    """The API's assign action (reassign=False): the second finds the item taken and is told by whom."""
    second_manager = UserFactory(username="manager2", team=desk.owner.team, role_slugs="manager")
    item = open_item(desk)
    results = at_once(assign_in_thread(desk.manager.pk, item.pk, desk.asa.pk, reassign=False),
                      assign_in_thread(second_manager.pk, item.pk, desk.bo.pk, reassign=False))
    wins, losses = split(results)
    assert len(wins) == 1 and len(losses) == 1 and isinstance(losses[0], Conflict), results
    [pending] = SupportRequest.objects.filter(item=item, state=RequestState.PENDING)
    assert SupportRequest.objects.filter(item=item).count() == 1
    item.refresh_from_db()
    assert item.assignee_id == pending.recipient_id and item.status == SupportStatus.ASSIGNED
    assert OutboxMessage.objects.filter(kind="support_request").count() == 1


@postgres_only
def test_two_managers_assigning_the_version_they_saw_one_wins(desk, slow):
    """A form or API call that names the version it showed: the second is stale."""
    second_manager = UserFactory(username="manager2", team=desk.owner.team, role_slugs="manager")
    item = open_item(desk)
    results = at_once(assign_in_thread(desk.manager.pk, item.pk, desk.asa.pk, version=item.version),
                      assign_in_thread(second_manager.pk, item.pk, desk.bo.pk, version=item.version))
    wins, losses = split(results)
    assert len(wins) == 1 and len(losses) == 1 and isinstance(losses[0], StaleVersion | Conflict), results
    assert SupportRequest.objects.filter(item=item).count() == 1
    assert SupportRequest.objects.filter(item=item, state=RequestState.PENDING).count() == 1


@postgres_only
def test_two_reassigns_at_once_leave_one_request_waiting_and_keep_the_chain(desk, slow):
    """Without a version, the later reassign replaces the earlier one, as it would a moment later."""
    second_manager = UserFactory(username="manager2", team=desk.owner.team, role_slugs="manager")
    item = open_item(desk)
    results = at_once(assign_in_thread(desk.manager.pk, item.pk, desk.asa.pk),
                      assign_in_thread(second_manager.pk, item.pk, desk.bo.pk))
    assert all(outcome == "ok" for outcome, _value in results), results
    requests = list(SupportRequest.objects.filter(item=item).order_by("created_at", "id"))
    assert [r.state for r in requests] == [RequestState.WITHDRAWN, RequestState.PENDING]
    assert requests[1].previous == requests[0]
    item.refresh_from_db()
    assert item.assignee_id == requests[1].recipient_id


@postgres_only
def test_accepting_while_a_manager_reassigns(desk, slow):
    """Whichever comes second sees the first: accepted then reassigned, or withdrawn before the accept."""
    item = open_item(desk)
    request = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    results = at_once(accept_in_thread(desk.asa.pk, request.pk),
                      assign_in_thread(desk.manager.pk, item.pk, desk.bo.pk))
    item.refresh_from_db()
    request.refresh_from_db()
    assert item.assignee == desk.bo and item.status == SupportStatus.ASSIGNED
    assert SupportRequest.objects.filter(item=item, state=RequestState.PENDING).get().recipient == desk.bo
    accepted, reassigned = results
    assert reassigned[0] == "ok", results
    if accepted[0] == "error":
        assert isinstance(accepted[1], Conflict) and desk.bo.display_name in str(accepted[1])
        assert request.state == RequestState.WITHDRAWN
    else:
        assert request.state == RequestState.ACCEPTED


def test_the_database_refuses_a_second_waiting_request(desk):
    """The last line of defence under the services' lock: one pending request per item."""
    item = open_item(desk)
    services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportRequest.objects.create(item=item, recipient=desk.bo, requested_by=desk.owner,
                                      links_expire_at=timezone.now())
