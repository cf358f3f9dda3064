"""Contacts as the vCards of a user's CardDAV address book, and vCards from a client as contacts.

A contact made in Rapport is written as the export writes it (vCard 3.0, rapport.exports.vcard). A contact a
client (or an import) gave keeps the client's text in `vcard_source`; it is served as that text, patched only
where Rapport's value differs from what the text says, so a photo, a third email, X- properties, groups and
parameters come back to the client byte for byte and an unchanged contact serves the very text it was given.

"What the text says" is read by the same function (`_read`) that turns a PUT into fields, so a value Rapport
clips or skips (a 150-character title, an email that is not one) reads the same on both sides and never
counts as a change.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from rapport.activities.ical.importer import derived_uid
from rapport.core.access import record_visible, require
from rapport.core.errors import StaleVersion
from rapport.core.models import Action, User
from rapport.core.text import fold as fold_key
from rapport.directory.models import Account, Address, Contact
from rapport.directory.services import MAX_ADDRESSES, contact_create, contact_update
from rapport.exports.resources import Batch
from rapport.exports.vcard import ADDRESS_FIELDS, ADDRESS_TYPES, contact_card, escape
from rapport.exports.vcard import fold as fold_line
from rapport.imports.readers import _ordered, _types
from rapport.sync.errors import DavRefusal
from rapport.sync.hrefs import dav_name_for, release_deleted_uid

EXTENSION = "vcf"
VERSIONS = ("3.0", "4.0")


def _max(name: str, model: Any = Contact) -> int:
    return model._meta.get_field(name).max_length or 0


# An address kind from the TYPE parameters the export writes for it (so a card Rapport made reads back with
# its kinds), else home or work where the TYPE says so, else main.
KIND_BY_TYPES = {frozenset(value.lower().split(",")): kind for kind, value in ADDRESS_TYPES.items()}
# The vCard property behind each field, for a refusal a person can act on.
PROPERTY_OF = {"first_name": "N", "last_name": "N", "title": "TITLE", "email": "EMAIL", "secondary_email": "EMAIL",
               "phone": "TEL", "mobile": "TEL", "remarks": "NOTE", "account": "ORG", "uid": "UID",
               "dav_name": "href", "addresses": "ADR"}
# Properties Rapport reads: a grouped line removed with one of them takes its group's other lines along
# (Apple's "item1.EMAIL" + "item1.X-ABLabel"), but never another of these.
MODELED = frozenset({"N", "FN", "TITLE", "EMAIL", "TEL", "ADR", "NOTE", "ORG", "UID", "VERSION", "REV"})
PHONE_SKIP = frozenset({"fax", "pager"})  # a TEL of these kinds is neither the phone nor the mobile


# --- The text, line by line ----------------------------------------------------------------------------------


@dataclass
class _Line:
    """One content line as the client wrote it (`raw`, folded, with its line ending), and what it says."""

    index: int
    raw: str
    name: str = ""  # upper case; "" for a blank line
    group: str | None = None
    param_list: list[list[str]] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)  # upper-case names, for readers._types
    value: str = ""  # as written (escaped), unfolded
    prefix: str = ""  # the unfolded text before the value, colon included


@dataclass
class _Card:
    before: str  # the text up to and including BEGIN:VCARD
    lines: list[_Line]
    after: str  # END:VCARD and what follows
    version: str
    newline: str


_PHYSICAL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def _physical_lines(text: str) -> list[str]:
    return [line for line in _PHYSICAL.findall(text) if line]


def _logical_lines(text: str) -> list[tuple[str, str]]:
    """(raw, unfolded) for each line; a line starting with a space or a tab continues the one before."""
    found: list[list[str]] = []
    for physical in _physical_lines(text):
        content = physical.rstrip("\r\n")
        if content[:1] in (" ", "\t") and found and found[-1][1]:
            found[-1][0] += physical
            found[-1][1] += content[1:]
        else:
            found.append([physical, content])
    return [(raw, unfolded) for raw, unfolded in found]


def _tokenise(text: str) -> _Card:
    """The one card of a text, line by line; DavRefusal(400) when it is not one well-formed vCard."""
    import vobject.base

    text = text.removeprefix("\ufeff")
    newline = "\r\n" if "\r\n" in text else "\n" if "\n" in text else "\r\n"
    before: list[str] = []
    lines: list[_Line] = []
    after: list[str] = []
    state = "before"
    for raw, unfolded in _logical_lines(text):
        upper = unfolded.strip().upper()
        if state == "before":
            before.append(raw)
            if upper == "BEGIN:VCARD":
                state = "inside"
            elif upper:
                raise DavRefusal(400, _("The text does not start with BEGIN:VCARD."))
        elif state == "inside":
            if upper == "END:VCARD":
                after.append(raw)
                state = "after"
                continue
            if not unfolded.strip():
                lines.append(_Line(index=len(lines), raw=raw))
                continue
            try:
                name, param_list, value, group = vobject.base.parseLine(unfolded)
            except Exception:  # vobject raises ParseError for a line it cannot split
                raise DavRefusal(400, _("This line of the vCard cannot be read: %(line)s")
                                 % {"line": unfolded[:80]}) from None
            if name.upper() == "BEGIN":
                raise DavRefusal(400, _("A vCard inside a vCard (BEGIN:%(name)s) is not accepted.")
                                 % {"name": value[:40]})
            params: dict[str, list[str]] = {}
            for param_name, *values in param_list:
                params.setdefault(param_name.upper(), []).extend(values)
            lines.append(_Line(index=len(lines), raw=raw, name=name.upper(), group=group, param_list=param_list,
                               params=params, value=value, prefix=unfolded[: len(unfolded) - len(value)]))
        else:
            if unfolded.strip():
                raise DavRefusal(400, _("The text holds more than one vCard; put one card per contact."))
            after.append(raw)
    if state == "before":
        raise DavRefusal(400, _("The text holds no vCard (BEGIN:VCARD is missing)."))
    if state == "inside":
        raise DavRefusal(400, _("The vCard is not closed (END:VCARD is missing)."))
    versions = [line.value.strip() for line in lines if line.name == "VERSION"]
    if not versions:
        raise DavRefusal(400, _("VERSION is missing; Rapport reads vCard 3.0 and 4.0."))
    if versions[0] not in VERSIONS:
        raise DavRefusal(400, _("VERSION %(version)s is not read; send vCard 3.0 or 4.0.")
                         % {"version": versions[0][:10]})
    return _Card(before="".join(before), lines=lines, after="".join(after), version=versions[0], newline=newline)


def _split(value: str, separator: str = ";") -> list[str]:
    """The components of a structured value, split at separators that are not escaped (still escaped)."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            current.append(value[index:index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda match: "\n" if match.group(1) in "nN" else match.group(1), value, flags=re.S)


def _same(stored: str, said: str) -> bool:
    """Whether a value Rapport holds is what a card says: a web form's CRLF and stray spaces aside (a card
    writes every line break as \\n and is read stripped)."""
    return (stored or "").replace("\r\n", "\n").replace("\r", "\n").strip() == (said or "").strip()


def _clip(text: str, limit: int) -> str:
    """A value cut to a field's length; the full value stays in the card's text."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Reading: what a card says in Rapport's fields -------------------------------------------------------------


@dataclass
class _Reading:
    uid: str = ""
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    remarks: str = ""
    org: str = ""
    emails: list[tuple[_Line, str]] = field(default_factory=list)
    phone: tuple[_Line, str] | None = None
    mobile: tuple[_Line, str] | None = None
    addresses: list[tuple[_Line, dict[str, str]]] = field(default_factory=list)
    first: dict[str, _Line] = field(default_factory=dict)  # the first line of each property

    def fields(self) -> dict[str, str]:
        return {
            "first_name": self.first_name, "last_name": self.last_name, "title": self.title,
            "email": self.emails[0][1] if self.emails else "",
            "secondary_email": self.emails[1][1] if len(self.emails) > 1 else "",
            "phone": self.phone[1] if self.phone else "", "mobile": self.mobile[1] if self.mobile else "",
            "remarks": self.remarks,
        }

    def address_values(self) -> list[dict[str, str]]:
        return [values for _line, values in self.addresses]


def _email(value: str) -> str:
    """The address a line gives, or "" when it is not one Rapport can store (it stays in the card)."""
    value = value.strip().removeprefix("mailto:")
    if not value or len(value) > _max("email"):
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def _kind(types: set[str]) -> str:
    found = KIND_BY_TYPES.get(frozenset(types))
    if found:
        return found
    if "home" in types:
        return Address.Kind.HOME
    if "work" in types:
        return Address.Kind.WORK
    return Address.Kind.MAIN


def _address(line: _Line) -> dict[str, str]:
    parts = [_unescape(part).strip() for part in [*_split(line.value), *[""] * 7][:7]]
    _box, extended, street, city, region, postal_code, country = parts
    return {"kind": _kind(_types(line)),
            "street": _clip(" ".join(part for part in (street, extended) if part), _max("street", Address)),
            "postal_code": _clip(postal_code, _max("postal_code", Address)),
            "city": _clip(city, _max("city", Address)), "region": _clip(region, _max("region", Address)),
            "country": _clip(country, _max("country", Address))}


def _read(card: _Card) -> _Reading:
    reading = _Reading()
    by_name: dict[str, list[_Line]] = {}
    for line in card.lines:
        if line.name:
            by_name.setdefault(line.name, []).append(line)
            reading.first.setdefault(line.name, line)
    reading.uid = _unescape(reading.first["UID"].value).strip() if "UID" in reading.first else ""

    family = given = ""
    if "N" in reading.first:
        family, given = [_unescape(part).strip() for part in [*_split(reading.first["N"].value), "", ""][:2]]
    if not family and not given and "FN" in reading.first:
        full = " ".join(_unescape(reading.first["FN"].value).split())
        # A company's card (vCard 4.0 KIND:org, Apple's X-ABShowAs:COMPANY) is named by the whole FN.
        company = any(_unescape(line.value).strip().lower() in ("org", "company")
                      for line in card.lines if line.name in ("KIND", "X-ABSHOWAS"))
        given, _space, family = ("", "", full) if company else full.rpartition(" ")
    if not family:
        family, given = given, ""
    reading.last_name, reading.first_name = _clip(family, _max("last_name")), _clip(given, _max("first_name"))

    for name, attribute, limit in (("TITLE", "title", _max("title")), ("NOTE", "remarks", _max("remarks"))):
        if name in reading.first:
            setattr(reading, attribute, _clip(_unescape(reading.first[name].value).strip(), limit))
    if "ORG" in reading.first:
        reading.org = _unescape(_split(reading.first["ORG"].value)[0]).strip()

    for line in _ordered(by_name.get("EMAIL", [])):
        address = _email(_unescape(line.value))
        if address:
            reading.emails.append((line, address))
    for line in _ordered(by_name.get("TEL", [])):
        number = _unescape(line.value).strip().removeprefix("tel:")
        kinds = _types(line)
        if not number or len(number) > _max("phone") or kinds & PHONE_SKIP:
            continue
        if kinds & {"cell", "mobile"}:
            reading.mobile = reading.mobile or (line, number)
        elif reading.phone is None:
            reading.phone = (line, number)
    for line in by_name.get("ADR", []):
        values = _address(line)
        if any(values[name] for name in ADDRESS_FIELDS if name != "kind") and len(reading.addresses) < MAX_ADDRESSES:
            reading.addresses.append((line, values))
    return reading


# --- Writing: a client's card patched with what Rapport changed ------------------------------------------------


def _param_text(param: list[str]) -> str:
    name, *values = param
    if not values:
        return f";{name}"
    return f";{name}=" + ",".join(f'"{value}"' if any(char in value for char in ':;,') else value
                                   for value in values)


class _Patch:
    """Edits to a card: lines replaced or dropped, new lines after a given line or before END:VCARD."""

    def __init__(self, card: _Card) -> None:
        self.card = card
        self.replaced: dict[int, str] = {}
        self.added: dict[int, list[str]] = {}
        self.at_end: list[str] = []

    @property
    def changed(self) -> bool:
        return bool(self.replaced or self.added or self.at_end)

    def folded(self, text: str) -> str:
        return fold_line(text).replace("\r\n", self.card.newline)

    def line(self, name: str, value: str, params: Sequence[list[str]] = (), group: str | None = None) -> str:
        head = f"{group}.{name}" if group else name
        return self.folded(head + "".join(_param_text(list(param)) for param in params) + ":" + value)

    def set_value(self, line: _Line, value: str) -> None:
        self.replaced[line.index] = self.folded(line.prefix + value)

    def set_line(self, line: _Line, text: str) -> None:
        self.replaced[line.index] = text

    def drop(self, line: _Line) -> None:
        self.replaced[line.index] = ""
        if line.group:  # the group's label lines go with it
            for other in self.card.lines:
                if other.group and other.group.lower() == line.group.lower() and other.name not in MODELED:
                    self.replaced[other.index] = ""

    def add(self, text: str, *, after: _Line | None = None) -> None:
        if after is None:
            self.at_end.append(text)
        else:
            self.added.setdefault(after.index, []).append(text)

    def text(self) -> str:
        out = [self.card.before]
        for line in self.card.lines:
            out.append(self.replaced.get(line.index, line.raw))
            out.extend(self.added.get(line.index, []))
        out.extend(self.at_end)
        out.append(self.card.after)
        return "".join(out)


def _v4(card: _Card) -> bool:
    return card.version == "4.0"


def _address_params(kind: str, card: _Card) -> list[list[str]]:
    types = ADDRESS_TYPES.get(kind, "WORK")
    if not _v4(card):
        return [["TYPE", types]]
    # vCard 4.0 says "preferred" with the PREF parameter, not a TYPE.
    kinds = [part.lower() for part in types.split(",") if part != "PREF"]
    return [["TYPE", ",".join(kinds)], *([["PREF", "1"]] if "PREF" in types else [])]


def _address_value(values: dict[str, Any], line: _Line | None) -> str:
    box = _split(line.value)[0] if line is not None else ""
    return ";".join([box, ""] + [escape(values[name] or "") for name in
                                 ("street", "city", "region", "postal_code", "country")])


def _patch_text(patch: _Patch, reading: _Reading, name: str, value: str, current: str) -> None:
    if _same(value, current):
        return
    line = reading.first.get(name)
    if not value:
        if line is not None:
            patch.drop(line)
    elif line is not None:
        patch.set_value(line, escape(value))
    else:
        patch.add(patch.line(name, escape(value)))


def _patch_emails(patch: _Patch, reading: _Reading, wanted: list[str]) -> None:
    found = reading.emails
    if [value for _line, value in found[:2]] + [""] * (2 - len(found[:2])) == wanted:
        return
    last_email = next((line for line in reversed(patch.card.lines) if line.name == "EMAIL"), None)
    params = [] if _v4(patch.card) else [["TYPE", "INTERNET"]]
    anchor = last_email
    for position, value in enumerate(wanted):
        if position < len(found):
            line, current = found[position]
            if not value:
                patch.drop(line)
            elif value != current:
                patch.set_value(line, escape(value))
            anchor = line
        elif value:
            # Right after the email before it, so that it reads as the next one.
            patch.add(patch.line("EMAIL", escape(value), params), after=anchor)


def _patch_phone(patch: _Patch, found: tuple[_Line, str] | None, value: str, params: list[list[str]]) -> None:
    if (found[1] if found else "") == value:
        return
    if found is None:
        after = next((line for line in reversed(patch.card.lines) if line.name == "TEL"), None)
        patch.add(patch.line("TEL", escape(value), params), after=after)
    elif not value:
        patch.drop(found[0])
    else:
        line = found[0]
        patch.set_value(line, ("tel:" if line.value.strip().startswith("tel:") else "") + escape(value))


def _patch_addresses(patch: _Patch, reading: _Reading, wanted: list[dict[str, Any]]) -> None:
    found = reading.addresses
    if [values for _line, values in found] == wanted:
        return
    after = next((line for line in reversed(patch.card.lines) if line.name == "ADR"), None)
    for position in range(max(len(found), len(wanted))):
        if position >= len(wanted):
            patch.drop(found[position][0])
            continue
        values = wanted[position]
        if position >= len(found):
            patch.add(patch.line("ADR", _address_value(values, None), _address_params(values["kind"], patch.card)),
                      after=after)
            continue
        line, current = found[position]
        if current == values:
            continue
        # A LABEL parameter spells out the old address: it goes; the other parameters stay.
        params = [param for param in line.param_list if param[0].upper() != "LABEL"]
        if current["kind"] != values["kind"]:
            params = [param for param in params if param[0].upper() not in ("TYPE", "PREF")]
            params += _address_params(values["kind"], patch.card)
        patch.set_line(line, patch.line("ADR", _address_value(values, line), params, line.group))


def _revision(moment: dt.datetime | None, card: _Card) -> str:
    moment = (moment or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).astimezone(dt.UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ" if _v4(card) else "%Y-%m-%dT%H:%M:%SZ")


def _patched(card: _Card, contact: Contact, addresses: list[dict[str, Any]], account_name: str | None) -> str:
    """The client's card with Rapport's values where they differ from what the card says."""
    reading = _read(card)
    said = reading.fields()
    patch = _Patch(card)
    # A text kept from an import that gave the contact another UID (not a copy stored under a UID of its
    # own: the client knows it by the card's UID).
    if reading.uid != contact.uid and not contact.uid.startswith(f"{reading.uid}:"):
        if "UID" in reading.first:
            patch.set_value(reading.first["UID"], contact.uid)
        else:
            patch.add(patch.line("UID", contact.uid))
    if not (_same(contact.first_name, said["first_name"]) and _same(contact.last_name, said["last_name"])):
        n_line = reading.first.get("N")
        if n_line is not None:
            parts = _split(n_line.value) + [""] * 5
            parts[0], parts[1] = escape(contact.last_name), escape(contact.first_name)
            patch.set_value(n_line, ";".join(parts[: max(5, len(_split(n_line.value)))]))
        else:
            patch.add(patch.line("N", f"{escape(contact.last_name)};{escape(contact.first_name)};;;"))
        full_name = escape(contact.full_name or contact.last_name)
        if "FN" in reading.first:
            patch.set_value(reading.first["FN"], full_name)
        else:
            patch.add(patch.line("FN", full_name))
    if account_name and account_name.strip().casefold() != reading.org.casefold():
        org_line = reading.first.get("ORG")
        if org_line is not None:
            parts = _split(org_line.value)
            parts[0] = escape(account_name)
            patch.set_value(org_line, ";".join(parts))
        else:
            patch.add(patch.line("ORG", escape(account_name)))
    _patch_text(patch, reading, "TITLE", contact.title, said["title"])
    _patch_emails(patch, reading, [contact.email, contact.secondary_email])
    v4 = _v4(card)
    _patch_phone(patch, reading.mobile, contact.mobile, [["TYPE", "cell" if v4 else "CELL,VOICE"]])
    _patch_phone(patch, reading.phone, contact.phone, [["TYPE", "work,voice" if v4 else "WORK,VOICE"]])
    _patch_addresses(patch, reading, addresses)
    _patch_text(patch, reading, "NOTE", contact.remarks, said["remarks"])
    if not patch.changed:
        return card.before + "".join(line.raw for line in card.lines) + card.after
    # Clients that compare REV see that the card changed; from updated_at, so the text stays deterministic.
    revision = _revision(contact.updated_at, card)
    if "REV" in reading.first:
        patch.set_value(reading.first["REV"], revision)
    else:
        patch.add(patch.line("REV", revision))
    return patch.text()


# The order of an address's fields in a reading (and so in a comparison with Rapport's rows).
ADDRESS_ORDER = ("street", "postal_code", "city", "region", "country")


def _normal_address(values: dict[str, Any]) -> dict[str, str]:
    return {name: values.get(name) or "" for name in ("kind", *ADDRESS_ORDER)}


# --- contact_texts --------------------------------------------------------------------------------------------


def _owners(contacts: list[Contact]) -> dict[int, Any]:
    """The owner of each contact linked to an account (whose rights decide whether ORG names it): the ones
    loaded with the contacts, the others in one query."""
    owners: dict[int, Any] = {}
    owner_field = Contact._meta.get_field("owner")
    for contact in contacts:
        if contact.account_id is not None and owner_field.is_cached(contact):
            owners.setdefault(contact.owner_id, contact.owner)
    missing = {contact.owner_id for contact in contacts if contact.account_id is not None} - set(owners)
    if missing:
        owners.update(User.objects.in_bulk(missing))
    return owners


def contact_texts(contacts: Sequence[Contact]) -> dict[int, str]:
    """Each contact's vCard text by pk. Deterministic (same record version and same account version
    → byte-identical; REV from updated_at, never now()). Constant number of queries for any number of
    contacts (addresses and accounts in bulk; the caller passes contacts with `account` selected).
    Rapport-made contacts: vCard 3.0 (UID, FN, N, ORG = account name, TITLE, EMAIL;TYPE=..., TEL with
    CELL for mobile, ADR per address with TYPE, NOTE = remarks). A contact with vcard_source: the
    source is patched (its VERSION kept, 3.0 or 4.0), the properties Rapport models rewritten only
    where Rapport's value differs from what the source says, everything else (PHOTO, third email,
    X- properties, parameters) byte for byte.

    ORG names the account only where the contact's owner (whose address book this is) may see it, as the
    export does; where they may not, a client's own ORG is left as the client wrote it.
    """
    contacts = list(contacts)
    if not contacts:
        return {}
    addresses: dict[int, list[dict[str, Any]]] = {}
    for row in (Address.objects.filter(contact_id__in=[contact.pk for contact in contacts])
                .order_by("contact_id", "id").values("contact_id", *ADDRESS_FIELDS)):
        addresses.setdefault(row["contact_id"], []).append(row)
    owners = _owners(contacts)
    batches: dict[int, Batch] = {}
    texts: dict[int, str] = {}
    for contact in contacts:
        account = contact.account if contact.account_id is not None else None
        account_name = None
        owner = owners.get(contact.owner_id)
        if account is not None and owner is not None:
            batch = batches.setdefault(contact.owner_id, Batch(user=owner))
            if batch.sees("account", account.owner_id, account.visibility, account.deleted_at):
                account_name = account.name
        rows = addresses.get(contact.pk, [])
        if contact.vcard_source:
            try:
                texts[contact.pk] = _patched(_tokenise(contact.vcard_source), contact,
                                             [_normal_address(row) for row in rows], account_name)
                continue
            except DavRefusal:
                pass  # a stored text that no longer reads (written by an older Rapport): Rapport's own card
        values = {name: getattr(contact, name) for name in ("uid", "first_name", "last_name", "title", "email",
                                                            "secondary_email", "phone", "mobile", "remarks",
                                                            "updated_at")}
        # contact_card names the account where the batch's user (the owner) may see it, as decided above.
        values.update(account__name=account.name if account else None,
                      account__owner_id=account.owner_id if account and owner is not None else None,
                      account__visibility=account.visibility if account else None,
                      account__deleted_at=account.deleted_at if account else None)
        batch = batches.get(contact.owner_id) or Batch(user=None)
        texts[contact.pk] = contact_card(values, addresses=rows, batch=batch)
    return texts


# --- contact_put ----------------------------------------------------------------------------------------------


def _account_named(actor: User, name: str) -> Account | None:
    """The oldest account the actor may see whose name is exactly `name`, case aside (never a new one)."""
    if not name:
        return None
    candidates = (Account.objects.visible_to(actor).filter(name_key=fold_key(name)[: _max("name_key", Account)])
                  .order_by("id")[:50])
    return next((account for account in candidates if account.name.strip().casefold() == name.casefold()), None)


def _validated(text: str) -> _Card:
    """The card of a PUT, read strictly: vobject must read it too (a damaged PHOTO, a bad parameter)."""
    import vobject

    if not isinstance(text, str) or not text.strip():
        raise DavRefusal(400, _("The request holds no vCard."))
    card = _tokenise(text)
    try:
        components = list(vobject.readComponents(text.removeprefix("\ufeff")))
    except Exception as exc:  # vobject raises ParseError and others for a damaged card
        raise DavRefusal(400, _("The vCard cannot be read: %(error)s")
                         % {"error": str(exc)[:200] or type(exc).__name__}) from None
    if len(components) != 1:
        raise DavRefusal(400, _("The text holds more than one vCard; put one card per contact."))
    return card


def _refusal(exc: ValidationError) -> DavRefusal:
    """A ValidationError as a 400 naming the vCard property and Rapport's field."""
    if not hasattr(exc, "error_dict"):
        return DavRefusal(400, "; ".join(exc.messages))
    name, messages = next(iter(exc.message_dict.items()))
    prop = PROPERTY_OF.get(name.split(".")[0], "")
    where = f"{prop} ({name})" if prop else name
    # The UID check in full_clean: another request stored this UID first.
    return DavRefusal(409 if name == "uid" else 400, f"{where}: {' '.join(messages)}")


def contact_put(*, actor: User, text: str, contact: Contact | None, href: str) -> Contact:
    """Create (contact None) or replace a contact from one vCard (3.0 or 4.0). Malformed text, no
    UID, several cards, no name at all (no N/FN) → DavRefusal(400, message naming the property);
    nothing written on a refusal. Create: owner = actor, uid = the card's UID (if that uid is already
    another contact's → DavRefusal(409, ...)), vcard_source = text, dav_name = dav_name_for(...).
    ORG links the contact to an account the actor may see with exactly that name (case-insensitive),
    else leaves it unlinked (never creates accounts; ORG stays in the source). First EMAIL → email,
    second → secondary_email (TYPE=pref first), further ones only in the source; TEL TYPE=CELL →
    mobile, first other TEL → phone; ADR → addresses (TYPE home/work → kind, else main); NOTE →
    remarks. Replace: the caller has locked the row and passes it; update through contact_update with
    version=contact.version (PermissionDenied → DavRefusal(403, ...), ValidationError →
    DavRefusal(400, message naming the field)). An identical re-put must not bump the version.

    On a replace, a contact linked to an account the actor may not see keeps that link whatever ORG says
    (they cannot have meant to change what they cannot see). An email a client gives that is not an
    address, or a phone number longer than Rapport stores, stays in the card only.
    """
    card = _validated(text)
    reading = _read(card)
    if not reading.uid:
        raise DavRefusal(400, _("UID is missing: a contact needs a stable UID."))
    if len(reading.uid) > _max("uid"):
        raise DavRefusal(400, _("UID is longer than %(max)d characters.") % {"max": _max("uid")})
    if not reading.last_name:
        raise DavRefusal(400, _("The card has no name: N and FN are missing or empty."))
    data: dict[str, Any] = dict(reading.fields())
    data["vcard_source"] = text
    data["dav_name"] = dav_name_for(reading.uid, href, EXTENSION)
    addresses = reading.address_values()
    try:
        with transaction.atomic():
            account = _account_named(actor, reading.org)
            if contact is None:
                require(actor, Contact.record_type, Action.CREATE)  # before telling which UIDs exist
                uid = reading.uid
                release_deleted_uid(Contact, uid)
                holder = Contact._default_manager.filter(uid=uid).values_list("owner_id", flat=True).first()
                if holder == actor.pk:
                    raise DavRefusal(409, _("UID %(uid)s is already one of your contacts.") % {"uid": reading.uid})
                if holder is not None:
                    # Two colleagues keep the same card (shared from a directory): the second copy is
                    # stored under a UID of its own, and the card keeps the client's (see _patched).
                    uid = derived_uid(reading.uid, actor)
                    release_deleted_uid(Contact, uid)
                    if Contact._default_manager.filter(uid=uid).exists():
                        raise DavRefusal(409, _("UID %(uid)s is already one of your contacts.") % {"uid": reading.uid})
                data.update(uid=uid, account=account, dav_name=dav_name_for(uid, href, EXTENSION))
                return contact_create(actor=actor, data=data, addresses=addresses, confirm_duplicate=True)
            if contact.uid not in (reading.uid, derived_uid(reading.uid, contact.owner)):
                raise DavRefusal(409, _("UID %(uid)s is not the UID of the contact stored under this name (%(own)s).")
                                 % {"uid": reading.uid, "own": contact.uid})
            current = contact.account if contact.account_id is not None else None
            if account is None and current is not None and not record_visible(actor, current):
                account = current
            data["account"] = account
            for name in ("first_name", "last_name", "title", "remarks"):
                if _same(getattr(contact, name), data[name]):
                    data[name] = getattr(contact, name)  # a CRLF from a web form is no change
            if text != contact.vcard_source and contact_texts([contact]).get(contact.pk) == text:
                # The very card Rapport serves, sent back: the stored text (none, for a card Rapport made)
                # serves it again, so nothing changed and the version (the ETag) stays.
                data["vcard_source"] = contact.vcard_source
            return contact_update(actor=actor, contact=contact, data=data, version=contact.version,
                                  addresses=addresses)
    except PermissionDenied as exc:
        raise DavRefusal(403, str(exc) or _("You may not change this contact.")) from None
    except ValidationError as exc:
        raise _refusal(exc) from None
    except StaleVersion as exc:
        raise DavRefusal(412, str(exc)) from None
    except IntegrityError:
        # Another request stored a contact with this UID between the check and the insert.
        raise DavRefusal(409, _("UID %(uid)s is already another contact's.") % {"uid": reading.uid}) from None
