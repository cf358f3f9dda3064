"""The demo company's documents (called by rapport.demo.load_demo once its users, accounts and deals exist).

A brochure, a price list and a logo on a few accounts (the price list in two versions), a CV on one of
their people, a link to a shared contract, and a project plan on each of the first projects. All made
through the services, with bytes generated here (no files shipped).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.documents.services import document_add, document_version_add


def _png(width: int = 48, height: int = 48, colour: tuple[int, int, int] = (47, 111, 223)) -> bytes:
    """A small logo: a coloured square with a white band, as a valid PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((255, 255, 255)) if height // 3 <= y < 2 * height // 3 and x > width // 4
                           else bytes(colour) for x in range(width))
        for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


BROCHURE = ("{name}: product brochure\n\nWe supply precision gearboxes, hydraulic pumps and spare parts for "
            "industrial customers. Same-week delivery across Europe; service contracts on request.\n")
PRICES_V1 = "product,unit price,currency\nGearbox G200,1200,EUR\nHydraulic pump HP5,640,EUR\nService visit,180,EUR\n"
PRICES_V2 = PRICES_V1.replace("1200", "1250").replace("640", "665") + "Spare parts kit,95,EUR\n"
CV = "Curriculum vitae\n\nPurchasing lead; fifteen years in industrial procurement; speaks German and English.\n"
PLAN = ("Project plan: {name}\n\n1. Kick-off and requirements\n2. Installation\n3. Training of the operators\n"
        "4. Acceptance and hand-over\n")


def demo_documents(users: dict[str, Any]) -> dict[str, int]:
    """A few documents on demo accounts, their people and projects; returns {"documents": n, "document
    versions": n}."""
    from rapport.directory.models import Account, Contact

    seller = users.get("sales1") or users.get("manager")
    if seller is None:
        return {}
    documents = versions = 0
    accounts = list(Account.objects.filter(deleted_at__isnull=True, owner=seller).order_by("pk")[:3]) or list(
        Account.objects.filter(deleted_at__isnull=True).order_by("pk")[:3])
    for index, account in enumerate(accounts):
        document_add(actor=seller, about=account, folder="publications", title=f"{account.name} brochure",
                     upload=_file("brochure.txt", BROCHURE.format(name=account.name).encode()),
                     description="What we sell them, in one page.")
        documents += 1
        versions += 1
        if index == 0:
            prices = document_add(actor=seller, about=account, folder="templates", title="Price list",
                                  upload=_file("price-list.csv", PRICES_V1.encode()),
                                  description="Prices agreed for this year.")
            document_version_add(actor=seller, document=prices, upload=_file("price-list.csv", PRICES_V2.encode()))
            document_add(actor=seller, about=account, folder="logos", title=f"{account.name} logo",
                         upload=_file("logo.png", _png()))
            document_add(actor=seller, about=account, folder="contracts", title="Framework contract (shared drive)",
                         link_url="https://drive.example.com/contracts/framework-2026")
            documents += 3
            versions += 3
            contact = Contact.objects.filter(account=account, deleted_at__isnull=True).order_by("pk").first()
            if contact is not None:
                document_add(actor=seller, about=contact, title=f"CV of {contact}", upload=_file("cv.txt", CV.encode()))
                documents += 1
                versions += 1
    for project in _projects():
        actor = users.get(getattr(project.owner, "username", "")) or seller
        try:
            document_add(actor=actor, about=project, folder="templates", title="Project plan",
                         upload=_file("project-plan.txt", PLAN.format(name=project).encode()))
        except (ValidationError, PermissionDenied):  # a project its owner may not file on: leave it bare
            continue
        documents += 1
        versions += 1
    return {"documents": documents, "document versions": versions}


def _projects() -> list[Any]:
    """The first demo projects, if the projects app is there and has made some."""
    if not apps.is_installed("rapport.projects"):
        return []
    try:
        project_model = apps.get_model("projects", "Project")
    except LookupError:
        return []
    return list(project_model.objects.filter(deleted_at__isnull=True).select_related("owner").order_by("pk")[:2])
