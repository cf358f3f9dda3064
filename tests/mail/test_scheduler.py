"""The scheduler (`rapport scheduler`): enqueues each registered job on its period, until stopped."""

from __future__ import annotations

import threading
import time

import pytest

from rapport.core import scheduler
from rapport.mail.tasks import deliver_mail


class FakeTask:
    def __init__(self, *, fail_times: int = 0) -> None:
        self.enqueued = 0
        self.fail_times = fail_times

    def enqueue(self) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("the database is restarting")
        self.enqueued += 1


class Clock:
    """scheduler's monotonic clock, moved forward by each wait instead of sleeping; stops after `ticks`."""

    def __init__(self, ticks: int) -> None:
        self.now = 1000.0
        self.ticks = ticks

    def stop_event(self) -> threading.Event:
        clock = self

        class Stop(threading.Event):
            def wait(self, timeout: float | None = None) -> bool:
                clock.now += timeout or 0
                clock.ticks -= 1
                if clock.ticks <= 0:
                    self.set()
                return self.is_set()

        return Stop()


@pytest.fixture
def jobs(monkeypatch):
    """An empty job registry for the test; what the apps registered comes back afterwards."""
    monkeypatch.setattr(scheduler, "_JOBS", {})
    return scheduler


@pytest.fixture
def clock(monkeypatch):
    def make(ticks: int) -> Clock:
        clock = Clock(ticks)
        monkeypatch.setattr(scheduler.time, "monotonic", lambda: clock.now)
        return clock

    return make


def test_the_mail_app_registers_delivery_every_minute():
    job = scheduler.periodic_jobs()["deliver_mail"]
    assert job.task is deliver_mail
    assert job.every_seconds == 60


def test_each_job_is_enqueued_at_once_and_then_once_per_period(jobs, clock):
    every_minute, hourly = FakeTask(), FakeTask()
    jobs.register_periodic("every minute", every_minute, every_seconds=60)
    jobs.register_periodic("hourly", hourly, every_seconds=3600)
    time_passes = clock(ticks=60)  # 60 ticks of 5 seconds: five minutes

    scheduler.run(time_passes.stop_event(), tick_seconds=5)

    assert every_minute.enqueued == 5  # at 0, 60, 120, 180 and 240 seconds
    assert hourly.enqueued == 1


def test_a_job_that_could_not_be_enqueued_is_tried_again_on_the_next_tick(jobs, clock):
    flaky = FakeTask(fail_times=2)
    jobs.register_periodic("flaky", flaky, every_seconds=3600)
    time_passes = clock(ticks=5)

    scheduler.run(time_passes.stop_event(), tick_seconds=5)

    assert flaky.enqueued == 1  # on the third tick, not an hour later


def test_the_scheduler_stops_promptly_when_told(jobs):
    task = FakeTask()
    jobs.register_periodic("often", task, every_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), kwargs={"tick_seconds": 0.01}, daemon=True)

    thread.start()
    time.sleep(0.3)
    stopped_at = time.monotonic()
    stop.set()
    thread.join(timeout=1)

    assert not thread.is_alive()
    assert time.monotonic() - stopped_at < 0.5
    assert 2 <= task.enqueued <= 8
