"""Global search finds documents by title, file name and the text inside the file, as their readers see them."""

from __future__ import annotations

import io

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from rapport.core.models import Visibility
from rapport.documents.services import document_version_add
from rapport.search.selectors import search
from tests.documents.factories import add_document, upload
from tests.factories import AccountFactory


def found(user, q) -> list[str]:
    return [hit.title for group in search(user=user, q=q).groups if group.key == "document" for hit in group.hits]


def _pdf(text: str) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "content", "word"), [
    ("brochure.txt", b"Our turbines are quiet.\n", "turbines"),
    ("prices.csv", b"product,price\nGearbox,120\n", "gearbox"),
    ("page.html", b"<html><body><p>Hydraulic <b>pumps</b></p></body></html>", "hydraulic"),
    ("offer.pdf", None, "flywheel"),
    ("letter.docx", None, "camshaft"),
])
def test_found_by_the_text_inside(personas, name, content, word):
    if content is None:
        content = _pdf("Flywheel offer") if name.endswith(".pdf") else _docx("About the camshaft order")
    account = AccountFactory(owner=personas.owner)
    add_document(actor=personas.owner, about=account, name=name, content=content, title="Attachment")
    assert found(personas.owner, word) == ["Attachment"]


def test_found_by_file_name_and_title_and_new_versions(personas):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account, name="Quarterly-figures.txt", content=b"a\n",
                            title="Board pack")
    assert found(personas.owner, "quarterly") == ["Board pack"]
    assert found(personas.owner, "board pack") == ["Board pack"]
    document_version_add(actor=personas.owner, document=document, upload=upload("renamed.txt", b"zeppelin\n"))
    assert found(personas.owner, "zeppelin") == ["Board pack"]


def test_results_respect_the_record_it_is_about(personas):
    hidden = AccountFactory(owner=personas.owner, visibility=Visibility.PRIVATE)
    add_document(actor=personas.owner, about=hidden, name="secret.txt", content=b"marmalade\n")
    assert found(personas.owner, "marmalade") == ["secret.txt"]
    assert found(personas.outsider, "marmalade") == []
    assert found(personas.teammate, "marmalade") == []


def test_a_deleted_document_is_not_found(personas):
    from rapport.documents.services import document_delete

    document = add_document(actor=personas.owner, about=AccountFactory(owner=personas.owner),
                            name="gone.txt", content=b"quokka\n")
    document_delete(actor=personas.owner, document=document)
    assert found(personas.owner, "quokka") == []
