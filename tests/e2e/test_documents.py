"""Files on an account, in a real browser: drop a file onto the Files panel, upload another with the file
input, download them back byte for byte; then the document page and a new version. Screenshots at desktop
and phone width go to $RAPPORT_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

BROCHURE = "Our gearboxes are quiet.\nÜbersetzung 1:12.\n".encode()
PRICES = b"product,price\nGearbox,1200\n"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("RAPPORT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def drop_file(page: Page, name: str, content: bytes) -> None:
    """Drop a file onto the Files panel, as a drag from the desktop does (once the panel's script is there)."""
    page.wait_for_function("window.rapportDocumentsDrop === true")
    page.evaluate("""([name, bytes]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "text/plain"}));
        const panel = document.querySelector(".files-panel[data-dropzone]");
        for (const type of ["dragover", "drop"]) {
            panel.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", [name, list(content)])


def test_upload_onto_an_account_and_download_it_back(page: Page, live_server, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    user = UserFactory(username="sally", first_name="Sally", last_name="Seller", role_slugs="sales")
    account = AccountFactory(name="Gearbox Works", owner=user)
    ContactFactory(first_name="Jana", last_name="Novak", account=account, owner=user)
    sign_in(page, live_server.url, "sally")

    page.goto(f"{live_server.url}/accounts/{account.public_id}/")
    files = page.get_by_role("region", name="Files")
    expect(files.get_by_text("No files yet.")).to_be_visible()

    drop_file(page, "brochure.txt", BROCHURE)
    expect(files.get_by_role("link", name="brochure.txt", exact=True)).to_be_visible()
    expect(files.get_by_text("1 file was added.")).to_be_visible()

    files.get_by_label("Folder").first.select_option(label="Publications")
    files.get_by_label("Files").set_input_files({"name": "prices.csv", "mimeType": "text/csv", "buffer": PRICES})
    files.get_by_role("button", name="Upload").click()
    expect(files.get_by_role("link", name="prices.csv", exact=True)).to_be_visible()
    expect(files.get_by_role("cell", name="Publications")).to_be_visible()

    for name, content in (("brochure.txt", BROCHURE), ("prices.csv", PRICES)):
        with page.expect_download() as info:
            files.get_by_role("link", name=f"Download {name}").click()
        download = info.value
        assert download.suggested_filename == name
        assert Path(download.path()).read_bytes() == content

    # A file whose content is not what its name says is refused, with the reason, and nothing is added.
    files.get_by_label("Files").set_input_files({"name": "invoice.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"<html><script>alert(1)</script></html>"})
    files.get_by_role("button", name="Upload").click()
    expect(files.get_by_text("is named as a PDF but its content is an HTML page")).to_be_visible()
    expect(files.get_by_role("link", name="invoice.pdf", exact=True)).to_have_count(0)
    shoot(page, "1280-files-panel")

    # The document page: a new version; both stay downloadable.
    files.get_by_role("link", name="prices.csv", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="prices.csv")).to_be_visible()
    page.get_by_label("New version").set_input_files({"name": "prices.csv", "mimeType": "text/csv",
                                                      "buffer": PRICES + b"Pump,640\n"})
    page.get_by_role("button", name="Upload new version").click()
    expect(page.get_by_text("Version 2 was added.")).to_be_visible()
    versions = page.get_by_role("region", name="Versions")
    with page.expect_download() as info:
        current = versions.get_by_role("row").filter(has_text="current")
        current.get_by_role("link", name="prices.csv", exact=True).click()
    assert Path(info.value.path()).read_bytes() == PRICES + b"Pump,640\n"
    shoot(page, "1280-document-page")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "390-document-page")
    page.goto(f"{live_server.url}/accounts/{account.public_id}/")
    files = page.get_by_role("region", name="Files")
    expect(files.get_by_role("link", name="brochure.txt", exact=True)).to_be_visible()
    page.get_by_role("region", name="Files").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "390-files-panel")
