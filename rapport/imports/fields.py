"""What each record type's import can fill (its targets), how a column is guessed from its header, and how a
cell's text becomes a stored value (dates, amounts, choices) or a reason it cannot.

Headers are guessed from their folded text (case, accents, punctuation and spacing ignored) against each
target's aliases, which include the headers of Outlook's contacts export ("First Name", "E-mail Address",
"Business Phone", "Job Title", "Business Street"...), of Google Contacts' old ("Given Name", "E-mail 1 - Value",
"Organization 1 - Name") and new ("First Name", "Organization Name") exports, of vCard files as the reader lays
them out, and Rapport's own field names. A target's aliases are tried in order, so "Job Title" wins the title
over Outlook's "Title" (which holds Mr. or Ms.).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.core.text import fold


@dataclass(frozen=True)
class Target:
    key: str
    label: Any
    kind: str = "text"  # text, email, url, date, datetime, decimal, integer, choice, bool, user, name
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    required: bool = False


@dataclass(frozen=True)
class Spec:
    record_type: str
    label: Any
    targets: tuple[Target, ...]

    def target(self, key: str) -> Target | None:
        return next((t for t in self.targets if t.key == key), None)

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.targets]


T = Target
L = gettext_lazy
ADDRESS = (
    T("street", L("Street"), aliases=("street", "address", "street address", "business street", "address 1 street",
                                      "address 1 - street", "work street", "mailing street", "billing street",
                                      "home street", "address line 1"), max_length=200),
    T("postal_code", L("Postal code"), aliases=("postal code", "zip", "zip code", "postcode", "business postal code",
                                                "address 1 postal code", "home postal code", "billing postal code",
                                                "mailing zip"), max_length=20),
    T("city", L("City"), aliases=("city", "town", "business city", "address 1 city", "home city", "billing city",
                                  "mailing city", "locality"), max_length=100),
    T("region", L("Region"), aliases=("region", "state", "province", "county", "business state", "address 1 region",
                                      "home state", "billing state", "mailing state", "state province"),
      max_length=100),
    T("country", L("Country"), aliases=("country", "business country region", "business country",
                                        "address 1 country", "home country region", "billing country",
                                        "mailing country", "country region"), max_length=100),
)
COMMON = (
    T("owner", L("Owner (user name or email)"), "user", aliases=("owner", "owner username", "assigned to",
                                                                  "record owner")),
    T("visibility", L("Visibility"), "choice", aliases=("visibility", "sharing")),
)

CONTACT = Spec("contact", L("Contacts"), (
    T("first_name", L("First name"), aliases=("first name", "given name", "firstname", "forename", "first"),
      max_length=100),
    T("last_name", L("Last name"), aliases=("last name", "family name", "surname", "lastname", "last"),
      max_length=100),
    T("full_name", L("Full name (split into first and last)"), "name",
      aliases=("full name", "name", "display name", "contact name", "contact", "person", "fn")),
    T("title", L("Job title"), aliases=("job title", "title", "position", "organization 1 title", "organization title",
                                        "role", "jobtitle"), max_length=100),
    T("account", L("Company (linked account)"), aliases=("company", "account", "account name", "organization 1 name",
                                                         "organization name", "organization", "organisation",
                                                         "company name", "employer", "org"), max_length=200),
    T("email", L("Email"), "email", aliases=("email", "e mail address", "e mail 1 value", "email address", "e mail",
                                             "mail", "email 1", "work email", "primary email", "e mail 1")),
    T("secondary_email", L("Other email"), "email", aliases=("other email", "e mail 2 address", "e mail 2 value",
                                                             "email 2", "secondary email", "personal email",
                                                             "home email")),
    T("phone", L("Phone"), aliases=("phone", "business phone", "phone 1 value", "telephone", "work phone",
                                    "primary phone", "phone number", "office phone", "tel", "company main phone"),
      max_length=40),
    T("mobile", L("Mobile"), aliases=("mobile", "mobile phone", "cell", "cell phone", "cellphone", "mobile number",
                                      "phone 2 value", "handy"), max_length=40),
    T("remarks", L("Remarks"), aliases=("remarks", "notes", "note", "comments", "comment", "description"),
      max_length=10000),
    *ADDRESS,
    *COMMON,
))

ACCOUNT = Spec("account", L("Accounts"), (
    T("name", L("Name"), aliases=("name", "account name", "account", "company", "company name", "organization",
                                  "organisation", "organization name", "organization 1 name"),
      max_length=200, required=True),
    T("website", L("Website"), "url", aliases=("website", "web site", "web page", "url", "homepage", "domain",
                                               "website 1 value", "web"), max_length=300),
    T("industry", L("Industry"), aliases=("industry", "sector", "branch"), max_length=100),
    T("email", L("Email"), "email", aliases=("email", "e mail", "email address", "e mail address", "general email")),
    T("phone", L("Phone"), aliases=("phone", "telephone", "main phone", "business phone", "phone number", "tel"),
      max_length=40),
    T("secondary_phone", L("Other phone"), aliases=("other phone", "secondary phone", "phone 2", "fax"),
      max_length=40),
    T("stage", L("Relationship stage"), "choice", aliases=("relationship stage", "stage", "relationship")),
    T("remarks", L("Remarks"), aliases=("remarks", "notes", "note", "comments", "description"), max_length=10000),
    *ADDRESS,
    *COMMON,
))

OPPORTUNITY = Spec("opportunity", L("Opportunities"), (
    T("name", L("Name"), aliases=("name", "opportunity", "opportunity name", "deal", "deal name", "title", "subject"),
      max_length=200, required=True),
    T("account", L("Account (company name)"), aliases=("account", "account name", "company", "customer",
                                                       "organization", "client"), max_length=200, required=True),
    T("amount", L("Amount"), "decimal", aliases=("amount", "value", "deal value", "revenue", "total")),
    T("currency", L("Currency"), aliases=("currency", "currency code"), max_length=3),
    T("stage", L("Pipeline stage"), "choice", aliases=("stage", "pipeline stage", "sales stage", "status")),
    T("probability", L("Probability (%)"), "integer", aliases=("probability", "probability %", "chance",
                                                               "win probability")),
    T("expected_close_on", L("Expected close date"), "date", aliases=("expected close date", "close date",
                                                                      "expected close", "closing date", "close")),
    T("source", L("Source"), aliases=("source", "lead source", "origin"), max_length=100),
    T("next_step", L("Next step"), aliases=("next step", "next action"), max_length=200),
    T("description", L("Description"), aliases=("description", "notes", "remarks", "comments"), max_length=10000),
    *COMMON,
))

ORDER = Spec("order", L("Orders"), (
    T("number", L("Number"), aliases=("number", "order number", "order no", "order", "order id", "reference",
                                      "no"), max_length=40),
    T("account", L("Account (company name)"), aliases=("account", "account name", "company", "customer",
                                                       "organization", "client"), max_length=200, required=True),
    T("ordered_on", L("Order date"), "date", aliases=("order date", "ordered on", "date", "ordered")),
    T("amount", L("Amount"), "decimal", aliases=("amount", "total", "value", "order total", "net amount"),
      required=True),
    T("currency", L("Currency"), aliases=("currency", "currency code"), max_length=3),
    T("status", L("Status"), "choice", aliases=("status", "order status", "state")),
    T("description", L("Description"), aliases=("description", "notes", "remarks", "comments"), max_length=10000),
    *COMMON,
))

ACTIVITY = Spec("activity", L("Activities"), (
    T("subject", L("Subject"), aliases=("subject", "title", "name", "summary", "activity"), max_length=200,
      required=True),
    T("activity_type", L("Task or event"), "choice", aliases=("type", "activity type", "task or event")),
    T("kind", L("Kind (call, meeting...)"), "choice", aliases=("kind", "category", "activity kind")),
    T("due_on", L("Due date (a task)"), "date", aliases=("due date", "due", "due on", "deadline", "date")),
    T("starts_at", L("Start (an event)"), "datetime", aliases=("start", "starts", "start date", "starts at",
                                                                "start time", "begin", "from")),
    T("ends_at", L("End"), "datetime", aliases=("end", "ends", "end date", "ends at", "end time", "until", "to")),
    T("all_day", L("All day (yes or no)"), "bool", aliases=("all day", "all day event", "allday")),
    T("status", L("Status"), "choice", aliases=("status", "state")),
    T("priority", L("Priority"), "choice", aliases=("priority", "importance")),
    T("location", L("Location"), aliases=("location", "place", "where"), max_length=200),
    T("description", L("Description"), aliases=("description", "notes", "body", "details", "remarks"),
      max_length=20000),
    T("account", L("Regarding account (company name)"), aliases=("account", "company", "regarding account",
                                                                 "organization"), max_length=200),
    T("contact", L("Regarding contact (email)"), "email", aliases=("contact email", "contact", "email",
                                                                   "regarding contact", "attendee email")),
    *COMMON,
))

SPECS: dict[str, Spec] = {spec.record_type: spec for spec in (CONTACT, ACCOUNT, OPPORTUNITY, ORDER, ACTIVITY)}


def spec_for(record_type: str) -> Spec:
    try:
        return SPECS[record_type]
    except KeyError:
        raise ValidationError({"record_type": [_("Rapport imports %(types)s, not %(value)s.") % {
            "types": ", ".join(SPECS), "value": record_type or _("(nothing)")}]}) from None


def header_key(header: str) -> str:
    """A header as it is matched: folded, punctuation and spacing taken out ("E-mail Address" -> "e mail address")."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(header).replace("_", " ")).split())


def guess_mapping(spec: Spec, headers: Sequence[str]) -> list[str]:
    """A target key per column ("" for none): each target takes the first of its aliases (or its own name or
    label) that some column's header matches; no column gets two targets and no target two columns."""
    keys = [header_key(h) for h in headers]
    mapping = [""] * len(headers)
    for target in spec.targets:
        candidates = [*target.aliases, header_key(target.key), header_key(str(target.label))]
        for alias in candidates:
            alias = header_key(alias)
            found = next((i for i, key in enumerate(keys) if key == alias and not mapping[i]), None)
            if found is not None:
                mapping[found] = target.key
                break
    return mapping


def check_mapping(spec: Spec, mapping: Sequence[str], width: int) -> list[str]:
    """A mapping as given (a target key per column), checked: known targets, each at most once, the right width,
    and the required targets present (the last name or a full name for contacts)."""
    mapping = [str(key or "") for key in mapping]
    if len(mapping) != width:
        raise ValidationError({"mapping": [_("The mapping has %(given)d entries; the file has %(width)d columns.")
                                           % {"given": len(mapping), "width": width}]})
    seen: set[str] = set()
    for key in mapping:
        if not key:
            continue
        if spec.target(key) is None:
            raise ValidationError({"mapping": [_("%(key)s is not a field of %(type)s imports; use one of: %(keys)s.")
                                               % {"key": key, "type": spec.record_type,
                                                  "keys": ", ".join(spec.keys)}]})
        if key in seen:
            label = spec.target(key).label  # type: ignore[union-attr]
            raise ValidationError({"mapping": [_("Two columns go to %(field)s; choose one.") % {"field": label}]})
        seen.add(key)
    if spec.record_type == "contact":
        if not ({"last_name", "full_name"} & seen):
            raise ValidationError({"mapping": [_("Choose the column with the last name (or the full name).")]})
    else:
        for target in spec.targets:
            if target.required and target.key not in seen:
                raise ValidationError({"mapping": [_("Choose the column for %(field)s.") % {"field": target.label}]})
    if spec.record_type == "activity" and not ({"due_on", "starts_at"} & seen):
        raise ValidationError({"mapping": [_("Choose the column with the due date or the start.")]})
    return mapping


def mapping_from_names(spec: Spec, headers: Sequence[str], given: dict[str, str]) -> list[str]:
    """A mapping given as {header (or "#3" for the third column): target key} as the API takes it."""
    mapping = [""] * len(headers)
    for name, key in given.items():
        if re.fullmatch(r"#\d+", name):
            index = int(name[1:]) - 1
            if not 0 <= index < len(headers):
                raise ValidationError({"mapping": [_("The file has no column %(name)s.") % {"name": name}]})
        else:
            matches = [i for i, header in enumerate(headers) if header == name]
            if not matches:
                raise ValidationError({"mapping": [_("The file has no column named %(name)s; its columns are: "
                                                     "%(headers)s.") % {"name": name, "headers": ", ".join(headers)}]})
            index = matches[0]
        mapping[index] = str(key or "")
    return mapping


# --- Cells to values ---------------------------------------------------------------------------------------


class CellError(Exception):
    """A cell that cannot become its field's value; the message says why, for the error report."""


_URL = URLValidator()
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})")
_SLASHED = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([aApP][mM])?")
_MONTHS = {name: index for index, names in enumerate(
    (("jan", "january", "januar", "janvier"), ("feb", "february", "februar", "fevrier"),
     ("mar", "march", "marz", "mars"),
     ("apr", "april", "avril"), ("may", "mai"), ("jun", "june", "juni", "juin"), ("jul", "july", "juli", "juillet"),
     ("aug", "august", "aout"), ("sep", "sept", "september", "septembre"), ("oct", "october", "oktober", "octobre"),
     ("nov", "november", "novembre"), ("dec", "december", "dezember", "decembre")), start=1) for name in names}
DAY_FIRST, MONTH_FIRST = "dmy", "mdy"


def text_value(raw: Any, target: Target) -> str:
    text = raw.isoformat() if isinstance(raw, dt.date) else str(raw)
    text = text.strip()
    if "\x00" in text:
        raise CellError(_("A NUL character is not allowed."))
    if target.max_length and len(text) > target.max_length:
        raise CellError(_("%(count)d characters; at most %(max)d.") % {"count": len(text), "max": target.max_length})
    return text


def email_value(raw: Any) -> str:
    text = str(raw).strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if len(text) > 254:
        raise CellError(_("An email address has at most 254 characters."))
    try:
        validate_email(text)
    except ValidationError:
        raise CellError(_("%(value)s is not an email address.") % {"value": text[:80]}) from None
    return text


def url_value(raw: Any) -> str:
    text = str(raw).strip()
    url = text if "://" in text else "https://" + text
    if len(url) > 300:
        raise CellError(_("A website has at most 300 characters."))
    try:
        _URL(url)
    except ValidationError:
        raise CellError(_("%(value)s is not a website address.") % {"value": text[:80]}) from None
    return url


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _make_date(year: int, month: int, day: int, raw: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(_("%(value)s is not a date.") % {"value": raw}) from None


def date_order_hint(raw: Any) -> str | None:
    """What one cell says about its column's order of day and month: DAY_FIRST (13/01/2026), MONTH_FIRST
    (01/13/2026) or None (ISO, dotted, 03/04/2026, not a date)."""
    if not isinstance(raw, str):
        return None
    match = _SLASHED.match(raw.strip())
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    if first > 12 >= second:
        return DAY_FIRST
    if second > 12 >= first:
        return MONTH_FIRST
    return None


def date_value(raw: Any, order: str | None = None) -> dt.date:
    """A date from ISO (2026-04-03), dotted (3.4.2026, day first), slashed (03/04/2026: day first or month first
    as `order`, the column's other cells, says; refused when nothing says), or with a month name (3 April 2026,
    Apr 3, 2026). Spreadsheet dates come as dates already."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    date_part = re.split(r"[T ]\d{1,2}:\d{2}", text, maxsplit=1)[0].strip()
    if match := _ISO.fullmatch(date_part):
        return _make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)), text)
    if match := _DOTTED.fullmatch(date_part):
        return _make_date(_year(match.group(3)), int(match.group(2)), int(match.group(1)), text)
    if match := _SLASHED.fullmatch(date_part):
        first, second, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        hint = date_order_hint(date_part)
        use = hint or (order if first != second else DAY_FIRST)
        if use is None:
            day_first = _make_date(year, second, first, text)
            return_month_first = _make_date(year, first, second, text)
            raise CellError(_("%(value)s could be %(one)s or %(other)s; write the date as %(iso)s (year-month-day).")
                            % {"value": text, "one": day_first.strftime("%d %B %Y").lstrip("0"),
                               "other": return_month_first.strftime("%d %B %Y").lstrip("0"),
                               "iso": "YYYY-MM-DD"})
        if use == DAY_FIRST:
            return _make_date(year, second, first, text)
        return _make_date(year, first, second, text)
    return _named_month_date(date_part, text)


def _named_month_date(date_part: str, raw: str) -> dt.date:
    words = re.findall(r"[^\W\d_]+|\d+", fold(date_part))
    months = [w for w in words if w in _MONTHS]
    numbers = [w for w in words if w.isdigit()]
    if len(months) == 1 and len(numbers) == 2 and len(words) - len(months) - len(numbers) <= 1:
        year_text = next((n for n in numbers if len(n) == 4), None)
        if year_text is not None:
            day_text = next(n for n in numbers if n is not year_text)
            return _make_date(int(year_text), _MONTHS[months[0]], int(day_text), raw)
    raise CellError(_("%(value)s is not a date Rapport can read; write it as YYYY-MM-DD.") % {"value": raw[:40]})


def datetime_value(raw: Any, order: str | None, zone: Any) -> tuple[dt.datetime, bool]:
    """A moment in the importing user's time zone (or the offset it names) and whether a time was given."""
    if isinstance(raw, dt.datetime):
        moment = raw if raw.tzinfo else raw.replace(tzinfo=zone)
        return moment, True
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time(0), tzinfo=zone), False
    text = str(raw).strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text or _ISO.match(text) else None
    except ValueError:
        parsed = None
    if parsed is not None:
        has_time = ":" in text
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)), has_time
    day = date_value(text, order)
    rest = text[len(re.split(r"[T ]\d{1,2}:\d{2}", text, maxsplit=1)[0]):].strip()
    if not rest:
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone), False
    match = _TIME.search(rest)
    if not match:
        raise CellError(_("%(value)s is not a time Rapport can read; write it as YYYY-MM-DD HH:MM.") % {"value": text})
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    meridiem = (match.group(4) or "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    try:
        return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=zone), True
    except ValueError:
        raise CellError(_("%(value)s is not a time.") % {"value": text}) from None


def decimal_value(raw: Any) -> Decimal:
    """An amount: 1234.5, 1,234.50, 1.234,50, 1 234,50, with or without a currency sign. With only commas,
    "1,5" is one and a half and "1,234" (groups of three) is a thousand two hundred thirty-four."""
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        return Decimal(str(raw))
    text = re.sub(r"[\s\u00a0\u202f'€$£¥]|[A-Z]{3}", "", str(raw).strip())
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif "," in text:
        text = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text) else text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(_("%(value)s is not an amount.") % {"value": str(raw)[:40]}) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise CellError(_("%(value)s is not an amount.") % {"value": str(raw)[:40]})
    return value.quantize(Decimal("0.01"))


def integer_value(raw: Any) -> int:
    text = str(raw).strip().rstrip("%").strip()
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise CellError(_("%(value)s is not a whole number.") % {"value": str(raw)[:40]}) from None
    if number != number.to_integral_value():
        raise CellError(_("%(value)s is not a whole number.") % {"value": str(raw)[:40]})
    return int(number)


def bool_value(raw: Any) -> bool:
    text = fold(str(raw))
    if text in ("yes", "y", "true", "1", "x", "ja", "oui", "si", "wahr"):
        return True
    if text in ("no", "n", "false", "0", "nein", "non", "falsch"):
        return False
    raise CellError(_("%(value)s is neither yes nor no.") % {"value": str(raw)[:40]})


def choice_value(raw: Any, choices: Sequence[tuple[Any, Any]]) -> Any:
    """The value of a choice given by its value or its label, case and accents ignored."""
    wanted = fold(str(raw))
    for value, label in choices:
        if wanted in (fold(str(value)), fold(str(label))):
            return value
    raise CellError(_("%(value)s is not one of: %(choices)s.") % {
        "value": str(raw)[:40], "choices": ", ".join(str(label) for _value, label in choices)})


def split_name(full: str) -> tuple[str, str]:
    """"Jane Q. Doe" -> ("Jane Q.", "Doe"); "Doe, Jane" -> ("Jane", "Doe"); one word is the last name."""
    full = " ".join(full.split())
    if "," in full:
        last, first = (part.strip() for part in full.split(",", 1))
        return first, last
    if " " not in full:
        return "", full
    first, last = full.rsplit(" ", 1)
    return first, last
