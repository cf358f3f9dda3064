"""Contacts as vCard 3.0 (RFC 2426): one card per contact, text escaped, lines folded at 75 octets.

What a phone or a mail client needs to know the person: the name (N, FN), the account as ORG (only where the
user may see it), title, emails, phones, postal addresses, the remarks as NOTE, the contact's stable UID and
its last change (REV). Lines end in CRLF; a line longer than 75 octets is folded (CRLF and a space) between
characters, never inside one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rapport.exports.resources import Batch

if TYPE_CHECKING:
    from rapport.exports.selectors import Export

CONTENT_TYPE = "text/vcard; charset=utf-8"
LINE_OCTETS = 75
PRODID = "-//Rapport//Rapport CRM//EN"
# An address's kind as vCard 3.0 TYPE parameters.
ADDRESS_TYPES = {"main": "WORK,PREF", "billing": "WORK,POSTAL", "shipping": "WORK,PARCEL", "home": "HOME",
                 "work": "WORK"}


def escape(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, every line break as \\n."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded to at most 75 octets a line (UTF-8), ending in CRLF."""
    data = line.encode("utf-8")
    if len(data) <= LINE_OCTETS:
        return line + "\r\n"
    parts: list[str] = []
    current: list[str] = []
    size = 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
            limit = LINE_OCTETS - 1  # a continuation line starts with a space
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts) + "\r\n"


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# What a card reads of a contact (and of its account, to name it only where the user may see it).
FIELDS = ("uid", "first_name", "last_name", "title", "email", "secondary_email", "phone", "mobile", "remarks",
          "updated_at", "account__name", "account__owner_id", "account__visibility", "account__deleted_at")
ADDRESS_FIELDS = ("kind", "street", "city", "region", "postal_code", "country")


def contact_card(contact: dict[str, Any], *, addresses: list[dict[str, Any]], batch: Batch) -> str:
    """One contact's card, from its values (FIELDS) and its addresses (ADDRESS_FIELDS)."""
    full_name = f"{contact['first_name']} {contact['last_name']}".strip()
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"PRODID:{PRODID}", f"UID:{escape(contact['uid'])}",
             f"N:{escape(contact['last_name'])};{escape(contact['first_name'])};;;",
             f"FN:{escape(full_name or contact['last_name'])}"]
    if contact["account__owner_id"] is not None and batch.sees(
            "account", contact["account__owner_id"], contact["account__visibility"], contact["account__deleted_at"]):
        lines.append(f"ORG:{escape(contact['account__name'])}")
    if contact["title"]:
        lines.append(f"TITLE:{escape(contact['title'])}")
    if contact["email"]:
        lines.append(f"EMAIL;TYPE=INTERNET,PREF:{escape(contact['email'])}")
    if contact["secondary_email"]:
        lines.append(f"EMAIL;TYPE=INTERNET:{escape(contact['secondary_email'])}")
    if contact["phone"]:
        lines.append(f"TEL;TYPE=WORK,VOICE:{escape(contact['phone'])}")
    if contact["mobile"]:
        lines.append(f"TEL;TYPE=CELL,VOICE:{escape(contact['mobile'])}")
    for address in addresses:
        parts = ("", "", address["street"], address["city"], address["region"], address["postal_code"],
                 address["country"])
        if any(parts):
            kind = ADDRESS_TYPES.get(address["kind"], "WORK")
            lines.append(f"ADR;TYPE={kind}:" + ";".join(escape(part) for part in parts))
    if contact["remarks"]:
        lines.append(f"NOTE:{escape(contact['remarks'])}")
    if contact["updated_at"]:
        lines.append(f"REV:{_utc(contact['updated_at'])}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def _addresses(user: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Every address of each contact of a batch, in their order (one query)."""
    from rapport.directory.models import Address

    found: dict[int, dict[str, Any]] = {}
    for row in Address.objects.filter(contact_id__in=ids).order_by("contact_id", "id").values("contact_id",
                                                                                            *ADDRESS_FIELDS):
        found.setdefault(row["contact_id"], {"addresses": []})["addresses"].append(row)
    return found


def vcard_lines(export: Export) -> Iterator[str]:
    """The cards of an export of contacts, one after another."""
    for rows, batch in export.batches(FIELDS, prepare=_addresses, named=True):
        for contact in rows:
            addresses = batch.extra.get(contact["pk"], {}).get("addresses", [])
            yield contact_card(contact, addresses=addresses, batch=batch)
