"""The demo company's documents: a brochure, a price list in two versions, a logo, a link, a contact's CV."""

from __future__ import annotations

from rapport.documents.demo import demo_documents
from rapport.documents.models import Document, DocumentVersion
from tests.factories import AccountFactory, ContactFactory


def test_demo_documents(personas):
    account = AccountFactory(owner=personas.owner)
    ContactFactory(owner=personas.owner, account=account)
    AccountFactory(owner=personas.owner)
    counts = demo_documents({"sales1": personas.owner})
    assert counts["documents"] == Document.objects.count() >= 6
    assert counts["document versions"] == DocumentVersion.objects.count()
    prices = Document.objects.get(title="Price list")
    assert prices.versions.count() == 2 and "Spare parts kit" in prices.search_text
    assert Document.objects.get(title=f"{account.name} logo").current_version.content_type == "image/png"
    assert Document.objects.filter(link_url__startswith="https://").count() == 1
    assert Document.objects.filter(about_type="contact").count() == 1
