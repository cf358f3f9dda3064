"""The merge-field language of templates: `{{ contact.first_name }}` and nothing else.

A template's text is never compiled as a Django or Jinja template (a mail-merge template that
could reach Python objects is how SugarCRM CVE-2023-22952 ran code). A placeholder is a name from
the flat allow-list FIELDS between double braces, spaces optional, on one line. check() refuses
anything else when a template is saved, naming the line; render() replaces each placeholder with
its value in a single pass, so text that came from a value is never read as a placeholder again,
and nothing is ever evaluated. See docs/templates.md.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from rapport.core.models import User
    from rapport.directory.models import Account, Contact
    from rapport.templating.models import Template

# The allow-list: merge field name -> label shown where users pick a field.
# (Lazy translations: typed as str, which is what they are wherever they are shown.)
FIELDS: dict[str, str] = cast("dict[str, str]", {
    "contact.first_name": gettext_lazy("Contact: first name"),
    "contact.last_name": gettext_lazy("Contact: last name"),
    "contact.full_name": gettext_lazy("Contact: full name"),
    "contact.title": gettext_lazy("Contact: title"),
    "contact.email": gettext_lazy("Contact: email"),
    "contact.phone": gettext_lazy("Contact: phone"),
    "account.name": gettext_lazy("Account: name"),
    "account.website": gettext_lazy("Account: website"),
    "account.phone": gettext_lazy("Account: phone"),
    "account.city": gettext_lazy("Account: city"),
    "user.first_name": gettext_lazy("You: first name"),
    "user.last_name": gettext_lazy("You: last name"),
    "user.full_name": gettext_lazy("You: full name"),
    "user.email": gettext_lazy("You: email"),
    "user.signature": gettext_lazy("You: email signature"),
    "today": gettext_lazy("Today's date"),
    "unsubscribe_url": gettext_lazy("Unsubscribe link (campaigns only)"),
})

# Fields that only a campaign message can fill.
CAMPAIGN_ONLY: frozenset[str] = frozenset({"unsubscribe_url"})

# Where a letter's recipient block reads the postal address from (not a merge field: the letter
# layout prints it, and templates cannot name it).
ADDRESS_KEY = "letter.address"

# A placeholder as render() sees it: a dotted name between braces, spaces or tabs around it, on one line.
_PLACEHOLDER = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)[ \t]*\}\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# Anything check() has to look at: an opening or closing pair of braces, or a template-tag opener.
_TOKEN = re.compile(r"\{\{|\}\}|\{%|\{#")
_SHOWN = 60  # how much of a refused placeholder a message quotes
MAX_PROBLEMS = 20  # a text with more problems is told the first ones and how many more
# Lines as a text box counts them (not every character Python's splitlines() breaks at).
_LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class RenderedText:
    subject: str
    body: str


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def problems(text: str, *, allowed: Collection[str] | None = None) -> list[str]:
    """The problems of a template text, one message per problem, each naming its line (the first
    MAX_PROBLEMS, then how many more there are)."""
    found = list(_problems(text, set(FIELDS) if allowed is None else set(allowed)))
    if len(found) > MAX_PROBLEMS:
        more = len(found) - MAX_PROBLEMS
        found = [*found[:MAX_PROBLEMS], _("… and %(count)s more like these.") % {"count": more}]
    return found


def _problems(text: str, allowed_names: set[str]) -> list[str]:
    found: list[str] = []
    for number, line in enumerate(_LINES.split(text or ""), start=1):
        pos = 0
        while True:
            match = _TOKEN.search(line, pos)
            if match is None:
                break
            token = match.group()
            if token == "}}":
                found.append(_("Line %(line)s: “}}” has no matching “{{”.") % {"line": number})
                pos = match.end()
                continue
            if token in ("{%", "{#"):
                closer = "%}" if token == "{%" else "#}"
                end = line.find(closer, match.end())
                shown = line[match.start(): end + 2] if end >= 0 else line[match.start():]
                found.append(
                    _("Line %(line)s: %(text)s is not a merge field; only names like {{ contact.first_name }} "
                      "can be used.") % {"line": number, "text": _quote(shown)}
                )
                pos = end + 2 if end >= 0 else len(line)
                continue
            end = line.find("}}", match.end())
            if end < 0:
                found.append(_("Line %(line)s: “{{” is not closed with “}}” on the same line.") % {"line": number})
                break
            inner = line[match.end(): end]
            name = inner.strip(" \t")
            if "{" in inner or not _NAME.fullmatch(name):
                found.append(
                    _("Line %(line)s: %(text)s is not a merge field; only names like {{ contact.first_name }} "
                      "can be used.") % {"line": number, "text": _quote(line[match.start(): end + 2])}
                )
            elif name not in FIELDS:
                found.append(_("Line %(line)s: unknown field {{ %(name)s }}.") % {"line": number,
                                                                                   "name": _quote(name)})
            elif name not in allowed_names:
                found.append(_("Line %(line)s: {{ %(name)s }} cannot be used here.") % {"line": number,
                                                                                        "name": name})
            pos = end + 2
    return found


def check(text: str, *, field: str = "body", allowed: Collection[str] | None = None) -> None:
    """Refuse a template text with anything but allow-listed placeholders: ValidationError({field: [...]})."""
    found = problems(text, allowed=allowed)
    if found:
        raise ValidationError({field: found})


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace each `{{ name }}` by values[name] ("" when absent), in one pass; evaluate nothing.

    Values are inserted as they are: a value holding "{{ x }}" stays "{{ x }}". Anything that is
    not a placeholder ({{7*7}}, {% if %}) is left as written.
    """
    if not text or "{{" not in text:
        return text or ""
    return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), "") or ""), text)


_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """A subject line: every kind of line break becomes a space, so nothing can reach another header."""
    return _LINE_BREAKS.sub(" ", text).strip()


def render_template(template: Template, values: Mapping[str, str]) -> RenderedText:
    """A template's subject (one line) and body with the values merged in."""
    return RenderedText(subject=one_line(render(template.subject, values)), body=render(template.body, values))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _cached_relation(instance: Any, name: str) -> tuple[bool, Any]:
    """(loaded?, value) of a foreign key without querying for it."""
    field = instance._meta.get_field(name)
    if field.is_cached(instance):
        return True, getattr(instance, name)
    return getattr(instance, field.attname) is None, None


def _addresses(record: Any) -> list[Any]:
    """The record's addresses: from a prefetch when there is one (see selectors.with_merge_data)."""
    cache = getattr(record, "_prefetched_objects_cache", {})
    if "addresses" in cache:
        return list(cache["addresses"])
    return list(record.addresses.all())


def main_address(record: Any) -> Any:
    """The record's main address, else its first one, else None."""
    addresses = _addresses(record)
    for address in addresses:
        if address.kind == "main":
            return address
    return addresses[0] if addresses else None


def postal_lines(address: Any) -> list[str]:
    """An address as the lines of an envelope."""
    if address is None:
        return []
    lines = [address.street, f"{address.postal_code} {address.city}".strip(), address.region, address.country]
    return [line.strip() for line in lines if line and line.strip()]


def today_text(user: User | None = None) -> str:
    """Today's date in the user's time zone, written out for the active language."""
    zone = None
    if user is not None:
        try:
            zone = zoneinfo.ZoneInfo(user.time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
    day = timezone.localdate(timezone=zone) if zone is not None else timezone.localdate()
    return formats.date_format(day, "DATE_FORMAT")


def merge_values(
    *,
    contact: Contact | None = None,
    account: Account | None = None,
    user: User | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The flat name -> text dict a template is rendered with.

    Reads only what is passed: the account defaults to contact.account when that is already loaded
    (select_related); account.city reads the account's addresses from a prefetch when there is one
    (selectors.with_merge_data), else with one query. An account that is deleted, or that `user`
    may not see, contributes nothing.
    """
    values: dict[str, str] = dict.fromkeys(FIELDS, "")
    values["today"] = today_text(user)
    if contact is not None:
        values.update({
            "contact.first_name": _text(contact.first_name),
            "contact.last_name": _text(contact.last_name),
            "contact.full_name": _text(contact.full_name),
            "contact.title": _text(contact.title),
            "contact.email": _text(contact.email),
            "contact.phone": _text(contact.phone or contact.mobile),
        })
        if account is None:
            loaded, related = _cached_relation(contact, "account")
            account = related if loaded else None
    if account is not None and account.deleted_at is None:
        from rapport.core.access import record_visible

        if user is None or record_visible(user, account):
            address = main_address(account) if account.pk else None
            values.update({
                "account.name": _text(account.name),
                "account.website": _text(account.website),
                "account.phone": _text(account.phone),
                "account.city": _text(address.city if address is not None else ""),
            })
    if user is not None:
        values.update({
            "user.first_name": _text(user.first_name),
            "user.last_name": _text(user.last_name),
            "user.full_name": _text(user.display_name),
            "user.email": _text(user.email),
            "user.signature": _text(user.signature),
        })
    if extra:
        values.update({key: _text(value) for key, value in extra.items()})
    return values
