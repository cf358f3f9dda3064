"""The scheduler: enqueues periodic jobs for the worker (`rapport scheduler`, also inside `make run`).

Apps register their periodic jobs in AppConfig.ready(). The scheduler keeps no state another
process needs: every job is idempotent, so two schedulers, or a restart, cost a spare run at most.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    task: Any  # a django_tasks Task taking no arguments
    every_seconds: int


_JOBS: dict[str, PeriodicJob] = {}


def register_periodic(name: str, task: Any, *, every_seconds: int) -> None:
    _JOBS[name] = PeriodicJob(task=task, every_seconds=every_seconds)


def periodic_jobs() -> dict[str, PeriodicJob]:
    return dict(_JOBS)


def run(stop: threading.Event, *, tick_seconds: float = 5.0) -> None:
    """Enqueue each job when its period has passed, until `stop` is set."""
    from django.db import connections

    last_run: dict[str, float] = {}
    while not stop.is_set():
        now = time.monotonic()
        for name, job in periodic_jobs().items():
            if now - last_run.get(name, -job.every_seconds) >= job.every_seconds:
                try:
                    job.task.enqueue()
                except Exception:  # the database may be restarting; try again next tick
                    logger.exception("Could not enqueue the periodic job %s", name)
                    # A connection the database dropped stays broken: the next tick opens a new one.
                    connections.close_all()
                    continue
                last_run[name] = now
        stop.wait(tick_seconds)
