"""Sync tests: clients that fail to sign in are answered at once (the brute-force brake is for production)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _no_failed_login_delay():
    from django.conf import settings

    from rapport.sync.dav_views import radicale_app

    settings.RAPPORT_DAV_FAILED_LOGIN_DELAY = 0
    radicale_app.cache_clear()
    yield
    radicale_app.cache_clear()
