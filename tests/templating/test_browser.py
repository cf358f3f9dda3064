"""Templates in a real browser: a marketer writes a letter template, is told which field does not
exist (and on which line), inserts a field from the side panel, previews the letter for two real
contacts, and downloads serial letters. Screenshots at desktop and phone width go to
$RAPPORT_SCREENSHOTS (default: a temporary directory)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from tests.conftest import restore_migration_data
from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]

PHONE = {"width": 390, "height": 800}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = Path(os.environ.get("RAPPORT_SCREENSHOTS") or tempfile.mkdtemp(prefix="rapport-templates-"))


@pytest.fixture
def default_roles(transactional_db) -> None:
    restore_migration_data()


def shot(page: Page, name: str) -> None:
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{label}-{name}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


@pytest.mark.usefixtures("default_roles")
def test_write_check_preview_and_print_a_letter(page: Page, live_server) -> None:
    UserFactory(username="marketer1", first_name="Mia", last_name="Marketing", role_slugs="marketing")
    account = AccountFactory(name="Fjord Freight", visibility="everyone")
    ContactFactory(first_name="Anna", last_name="Adams", account=account, visibility="everyone")
    ContactFactory(first_name="Zoë", last_name="Müller", account=account, visibility="everyone")

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("marketer1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()

    page.goto(f"{live_server.url}/templates/")
    expect(page.get_by_role("heading", level=1, name="Templates")).to_be_visible()
    expect(page.get_by_role("navigation", name="Marketing").get_by_role("link", name="Templates")) \
        .to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="New letter template").click()
    expect(page.get_by_role("heading", level=1, name="New template")).to_be_visible()
    expect(page.get_by_role("radio", name="Letter")).to_be_checked()
    page.get_by_role("textbox", name="Name").fill("Visit thanks")
    body = page.get_by_role("textbox", name="Text")
    body.fill("Dear {{ contact.first_name }},\n\nthank you.\n{{ contact.owner.password }}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Line 4: unknown field {{ contact.owner.password }}.")).to_be_visible()
    shot(page, "template-form-refused")

    body.fill("Dear {{ contact.first_name }},\n\nthank you for visiting ")
    body.press("End")
    page.get_by_role("button", name="Insert Account: name").click()
    expect(body).to_have_value("Dear {{ contact.first_name }},\n\nthank you for visiting {{ account.name }}")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Visit thanks")
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_test_id("preview-body")).to_have_text(
        "Dear Anna,\n\nthank you for visiting Fjord Freight")
    shot(page, "template-detail")

    preview.get_by_role("searchbox", name="Find Preview for").press_sequentially("Mül", delay=30)
    picker = preview.get_by_role("combobox", name="Preview for")
    expect(picker.get_by_role("option", name="Zoë Müller")).to_have_count(1)
    picker.select_option(label="Zoë Müller")
    expect(page.get_by_role("region", name="Preview").get_by_test_id("preview-body")).to_contain_text("Dear Zoë,")

    page.get_by_role("link", name="Serial letters").click()
    expect(page.get_by_role("heading", level=1, name="Serial letters")).to_be_visible()
    for name in ("Adams", "Müller"):
        page.get_by_role("searchbox", name="Find Add a contact").fill("")
        page.get_by_role("searchbox", name="Find Add a contact").press_sequentially(name, delay=30)
        add = page.get_by_role("combobox", name="Add a contact")
        expect(add.get_by_role("option", name=name)).to_have_count(1)
        add.select_option(index=1)
        page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("checkbox", name="Zoë Müller")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Anna Adams")).to_be_checked()
    page.get_by_role("radio", name="DOCX").check()
    shot(page, "template-letters")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Make the letters").click()
    download = download_info.value
    assert download.suggested_filename == "visit-thanks-letters.docx"
    document = Document(io.BytesIO(Path(download.path()).read_bytes()))
    assert len(document.sections) == 2
    assert "Dear Zoë," in [paragraph.text for paragraph in document.paragraphs]

    page.goto(f"{live_server.url}/templates/")
    shot(page, "template-list")
