"""Shared test set-up: personas, API clients, the browser."""

from __future__ import annotations

import importlib
import logging
import os
import shutil
from dataclasses import dataclass

import pytest
from django.test import Client

from rapport.core.models import User
from rapport.core.services import token_create
from tests.factories import TeamFactory, UserFactory

# aiosmtpd logs every connection from its server thread, sometimes after pytest has closed the stream a
# test captured: "--- Logging error ---" noise in the output. Its warnings and errors still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)

CHROMIUM = "/usr/bin/chromium"


@dataclass
class Personas:
    """The people every permission test talks about.

    owner and teammate are sales in team A (managed by manager); outsider is
    sales in team B; viewer is read-only in team A; admin is an administrator.
    """

    owner: User
    teammate: User
    outsider: User
    manager: User
    viewer: User
    admin: User
    marketer: User

    def all(self) -> dict[str, User]:
        return dict(self.__dict__)


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory):
    """Uploaded files (documents, attachments) go to a temporary folder, never the checkout's var/."""
    from django.conf import settings

    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


def restore_migration_data() -> None:
    """Put back what the data migrations made (the job functions, the kinds of activity, the pipeline,
    the workflows and the support categories), for tests that run outside a transaction: the flush
    after such a test empties every table."""
    from django.apps import apps

    for module, function in (("rapport.core.migrations.0002_default_roles", "create_roles"),
                             ("rapport.activities.migrations.0002_default_kinds", "create_kinds"),
                             ("rapport.sales.migrations.0002_keys_default_pipeline_workflows", "create_defaults"),
                             ("rapport.support.migrations.0002_default_categories", "create_categories"),
                             ("rapport.expenses.migrations.0001_initial", "create_categories"),
                             ("rapport.documents.migrations.0001_initial", "create_folders")):
        getattr(importlib.import_module(module), function)(apps, None)


def build_personas() -> Personas:
    """The personas; the fixture builds them per test, the permission matrix once per module."""
    team_a = TeamFactory(name="Team A")
    team_b = TeamFactory(name="Team B")
    manager = UserFactory(username="manager", role_slugs="manager")
    team_a.manager = manager
    team_a.save()
    return Personas(
        owner=UserFactory(username="owner", team=team_a, role_slugs="sales"),
        teammate=UserFactory(username="teammate", team=team_a, role_slugs="sales"),
        outsider=UserFactory(username="outsider", team=team_b, role_slugs="sales"),
        manager=manager,
        viewer=UserFactory(username="viewer", team=team_a, role_slugs="read-only"),
        admin=UserFactory(username="admin", role_slugs="admin"),
        marketer=UserFactory(username="marketer", team=team_a, role_slugs="marketing"),
    )


def client_for(user: User | None) -> Client:
    """A page client signed in as user (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def sign_in(username: str, password: str) -> Client:
    """A fresh browser that signs in through the login page; asserts nothing."""
    client = Client()
    client.post("/login/", {"username": username, "password": password})
    return client


def signed_in(client: Client) -> bool:
    return client.get("/settings/").status_code == 200


class ApiClient:
    """Calls /api/v1 with a personal token, as an integration would."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers = {}
        if user is not None:
            self.headers["Authorization"] = f"Bearer {token_create(user=user, name='tests').plaintext}"

    def _call(self, method: str, path: str, json=None, **params):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        kwargs = {"headers": self.headers}
        if json is not None:
            kwargs["data"] = json
            kwargs["content_type"] = "application/json"
        elif params:
            kwargs["data"] = params
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **params):
        return self._call("get", path, **params)

    def post(self, path: str, json=None):
        return self._call("post", path, json=json if json is not None else {})

    def patch(self, path: str, json=None):
        return self._call("patch", path, json=json if json is not None else {})

    def delete(self, path: str):
        return self._call("delete", path)


@pytest.fixture
def api_for(db):
    return ApiClient


# --- Browser ----------------------------------------------------------------------


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    }


def pytest_collection_modifyitems(config, items):
    if chromium_available():
        return
    if os.environ.get("RAPPORT_TEST_REQUIRE_ALL") == "1":
        return  # let them fail loudly in CI
    skip = pytest.mark.skip(reason=f"Chromium is not installed at {CHROMIUM}")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)
