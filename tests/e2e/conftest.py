"""Browser tests: a live server, Debian's Chromium, and the default roles.

The live server needs a transactional database, which is emptied after each
test, data migrations included; `default_roles` puts the job functions back.
"""

from __future__ import annotations

import contextlib
import os

import pytest

from tests.conftest import restore_migration_data

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls
# from that thread are safe here because the loop is idle while they run.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def default_roles(transactional_db) -> None:
    """The job functions, the kinds of activity, the pipeline and the workflows, which the data migrations made."""
    restore_migration_data()


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/Berlin"}


@pytest.fixture(autouse=True)
def _settled_page(page, live_server):
    """Let the page finish what it loads (htmx panels, progress polls) and leave it before the database is
    emptied: a request still running then holds a lock that the flush's TRUNCATE waits on while it waits on
    the flush, which PostgreSQL ends as a deadlock and the next test meets as left-over rows."""
    yield
    with contextlib.suppress(Exception):  # a page the test closed, or one that never settles
        page.wait_for_load_state("networkidle", timeout=5_000)
        page.goto("about:blank")
