"""Reading one raw email message: headers, bodies, attachments and delivery reports.

Pure functions, no database: `parse_message(raw)` never raises. Whatever is wrong with a message
(malformed MIME, an unknown charset, a bad date, no From) becomes a note in `warnings` and the
best reading that can be made of it; the raw source is kept beside it, so nothing is lost. Should
reading fail in a way nobody foresaw, the message is still returned, recognised by its bytes.

Nothing a sender writes decides how long reading takes or how much reaches the database: header
values are cut before they are decoded (MAX_HEADER_CHARS; address lists MAX_ADDRESS_HEADER_CHARS and
MAX_ADDRESSES), In-Reply-To and References keep their first id and the last MAX_REFERENCES_TAIL, and
a delivery report names at most MAX_BOUNCE_IDS messages and MAX_BOUNCE_ADDRESSES addresses.

Every header value comes out as one line of text (RFC 2047 words decoded, control characters and
line breaks turned into spaces), so nothing read from a message can add a header anywhere else.
HTML is sanitised with nh3 (Ammonia): no scripts, styles, event handlers, forms or frames, links only
to http(s) and mailto, and no remote images (they would tell the sender when and where the message
was read); only images carried inside the message as data: URLs are shown.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.header
import email.message
import email.parser
import email.policy
import email.utils
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import nh3

from rapport.core import files
from rapport.core.files import sniff_type

logger = logging.getLogger(__name__)

# Longest bodies kept in the database (characters); the raw source always has all of it.
MAX_TEXT_CHARS = 500_000
MAX_HTML_CHARS = 1_000_000
MAX_FILENAME = 255
MAX_ATTACHMENTS = 100
# Header values are cut before they are decoded (decoding many encoded words takes time that grows with
# the square of their number): a subject is kept to 300 characters anyway.
MAX_HEADER_CHARS = 16_384
MAX_ADDRESS_HEADER_CHARS = 65_536
MAX_ADDRESSES = 500  # per header (To, Cc, ...): a message to a crowd matches "several" records anyway
# References keep the root and the latest ones (the parent is last), so a lookup never names thousands of ids.
MAX_REFERENCES_TAIL = 20
MAX_BOUNCE_IDS = 20
MAX_BOUNCE_ADDRESSES = 50
# Dates Rapport believes: none before 1970 and none more than two days ahead (a clock off by a time zone).
FUTURE_SLACK = timedelta(days=2)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# Charsets that are codecs of Python but not ways of writing text in mail.
_NOT_CHARSETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+$")
_ADDRESS_IN_TEXT = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_FORWARD_MARKERS = re.compile(
    r"^-{2,}\s*(forwarded message|original message|weitergeleitete nachricht|ursprüngliche nachricht|"
    r"message transféré|message d'origine)\s*-{2,}\s*$|^begin forwarded message:\s*$",
    re.IGNORECASE | re.MULTILINE)


@dataclass
class ParsedAttachment:
    """A part of the message that is a file: its cleaned name, the type it claims and the one found."""

    filename: str
    declared_type: str
    detected_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Bounce:
    """What a delivery report names: the ids of the messages that failed and their recipients."""

    message_ids: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    # A delivery-status report (RFC 3464), not only a mail daemon's notice: only a report's failed
    # addresses are trusted on their own (without the id of a message that failed).
    report: bool = False


@dataclass
class ParsedMessage:
    """Everything Rapport reads from one message. Message ids are bare (no <>), as written."""

    dedupe_key: str
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    # Where the message was delivered (Delivered-To, X-Original-To, Envelope-To, Bcc): for mailbox polling.
    delivered_to: list[str] = field(default_factory=list)
    subject: str = ""
    sent_at: datetime | None = None
    text_body: str = ""
    html_body: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    # The addresses of a message forwarded inside this one (its From, To and Cc).
    forwarded_addresses: list[str] = field(default_factory=list)
    bounce: Bounce | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        """From, To and Cc, each once, in that order."""
        return _unique([self.from_address, *self.to, *self.cc])


# --- Headers ---------------------------------------------------------------------------------------


def one_line(value: str) -> str:
    """A header value as one line: control characters and line breaks become single spaces."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def _charset_codec(charset: str | None, warnings: list[str], where: str) -> str:
    """A codec for a declared charset; Latin-1 (which reads any byte) when it is unknown or names a codec
    that is not a text encoding (base64, zlib, rot13... would decode to bytes or not at all)."""
    name = (charset or "").strip().strip('"').lower()
    if not name or name in ("unknown-8bit", "x-unknown"):
        return "utf-8"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        _warn(warnings, f"{where}: unknown charset “{one_line(name)[:40]}”; read as Latin-1.")
        return "latin-1"
    return info.name


def _bytes_to_text(data: bytes, codec: str) -> str:
    if codec == "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")  # undeclared 8-bit text: most often Windows/Latin-1
    try:
        return data.decode(codec, errors="replace")
    except Exception:  # a codec that refuses "replace" or fails on its own: Latin-1 reads any byte
        return data.decode("latin-1")


def _unescape_raw(value: object) -> str:
    """Header text as the compat32 parser gives it: raw 8-bit bytes come as surrogates, or as a Header
    of charset unknown-8bit; read them as UTF-8 (RFC 6532), else Latin-1. Encoded words stay as they are."""
    if isinstance(value, email.header.Header):
        parts = []
        for chunk, _charset in email.header.decode_header(value):
            if isinstance(chunk, bytes):
                try:
                    parts.append(chunk.decode("utf-8"))
                except UnicodeDecodeError:
                    parts.append(chunk.decode("latin-1"))
            else:
                parts.append(chunk)
        return "".join(parts)
    value = str(value)
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        data = value.encode("ascii", "surrogateescape")
        return _utf8_or_latin1(data)


def _utf8_or_latin1(data: bytes) -> str:
    """UTF-8 (RFC 6532), else Latin-1; a character cut at the very end (a clipped value) is dropped."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8", errors="replace")
        return data.decode("latin-1")


def decode_header_value(value: object, warnings: list[str] | None = None, *, name: str = "Header") -> str:
    """A header's text with RFC 2047 encoded words decoded, as one line."""
    warnings = warnings if warnings is not None else []
    if value is None:
        return ""
    text = _unescape_raw(value)
    try:
        chunks = email.header.decode_header(text)
    except Exception:  # a malformed encoded word: keep the text as it came
        _warn(warnings, f"{name}: an encoded word could not be read; kept as written.")
        return one_line(text)
    parts: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            parts.append(chunk)
            continue
        codec = _charset_codec(charset, warnings, name) if charset else "utf-8"
        parts.append(_bytes_to_text(chunk, codec))
    return one_line("".join(parts))


def header_values(message: email.message.Message, name: str) -> list[str]:
    """The values of a header as written (8-bit bytes as surrogates), without building Header objects."""
    wanted = name.lower()
    try:
        return [value if isinstance(value, str) else str(value)
                for key, value in message.raw_items() if key.lower() == wanted]
    except Exception:
        return []


def clip(value: str, limit: int, *, tail: int = 0) -> str:
    """A raw header value cut to `limit` characters before it is decoded; with `tail`, its end is kept too
    (References: the root first, the parent last)."""
    if len(value) <= limit:
        return value
    if tail:
        return f"{value[: limit - tail]} {value[-tail:]}"
    return value[:limit]


def _header(message: email.message.Message, name: str, warnings: list[str]) -> str:
    values = header_values(message, name)
    return decode_header_value(clip(values[0], MAX_HEADER_CHARS), warnings, name=name) if values else ""


def _id_header(message: email.message.Message, name: str, warnings: list[str]) -> list[str]:
    """The ids of In-Reply-To or References: the first and the last MAX_REFERENCES_TAIL."""
    values = header_values(message, name)
    if not values:
        return []
    text = decode_header_value(clip(values[0], MAX_HEADER_CHARS, tail=MAX_HEADER_CHARS * 3 // 4), warnings,
                               name=name)
    ids = message_ids(text)
    if len(ids) > MAX_REFERENCES_TAIL + 1:
        ids = [ids[0], *ids[-MAX_REFERENCES_TAIL:]]
    return ids


def clean_address(address: str) -> str:
    """An address folded to lower case if it looks like one, else ""."""
    address = one_line(_unescape_raw(address)).strip("<> ").lower()
    if len(address) > 320 or not _ADDRESS.match(address):
        return ""
    return address


def address_list(values: Iterable[object], warnings: list[str], *, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of address headers. Names are decoded after the list is split,
    so an encoded word cannot smuggle in another address; unreadable entries are noted and left out.
    At most MAX_ADDRESS_HEADER_CHARS of the values are read and MAX_ADDRESSES addresses kept."""
    raw_values: list[str] = []
    budget = MAX_ADDRESS_HEADER_CHARS
    for value in values:
        if value is None:
            continue
        text = value if isinstance(value, str) else _unescape_raw(value)
        if len(text) > budget:
            cut = text.rfind(",", 0, budget)  # the last whole address that fits
            text = text[:cut] if cut > 0 else ""
            _warn(warnings, f"{name}: too long; only its first addresses are read.")
            if text:
                raw_values.append(_unescape_raw(text))
            break
        budget -= len(text)
        raw_values.append(_unescape_raw(text))
    try:
        pairs = email.utils.getaddresses(raw_values)
    except Exception:
        pairs = []
    found: list[tuple[str, str]] = []
    for display, address in pairs:
        if not address and not display:
            continue
        if len(found) >= MAX_ADDRESSES:
            _warn(warnings, f"{name}: more than {MAX_ADDRESSES} addresses; only the first are read.")
            break
        cleaned = clean_address(address)
        if not cleaned:
            _warn(warnings, f"{name}: “{one_line(address or display)[:80]}” is not an email address; left out.")
            continue
        found.append((decode_header_value(display[:MAX_HEADER_CHARS], warnings, name=name)[:200], cleaned))
    return found


def message_ids(value: str) -> list[str]:
    """The ids in a Message-ID, In-Reply-To or References header, without angle brackets."""
    ids = _MSGID.findall(value or "")
    if not ids and value and "@" in value and " " not in value.strip():
        ids = [value.strip()]  # an id someone wrote without brackets
    return _unique(one_line(found) for found in ids)


def fold_id(message_id: str) -> str:
    return message_id.strip().strip("<>").lower()[:255]


def dedupe_key_for(message_id: str, raw: bytes) -> str:
    """How the same message is recognised: its Message-ID folded, or a digest of its bytes."""
    return fold_id(message_id) if message_id else f"sha256:{hashlib.sha256(raw).hexdigest()}"


def header_recipients(raw: bytes) -> list[str]:
    """The addresses a polled message was delivered or addressed to (for routing mailbox mail)."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    except Exception:
        return []
    found: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc", "Bcc"):
        found.extend(address for _n, address in address_list(header_values(headers, name), [], name=name))
    return _unique(found)


def return_path(raw: bytes) -> str:
    """The envelope sender a receiving server recorded for a polled message: its first Return-Path, ""
    for the null sender (<>) delivery reports come from. Without a Return-Path the From address stands
    in, so a message without one is taken for a bounce only when it comes from a mail daemon."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    except Exception:
        return "unknown"
    values = header_values(headers, "Return-Path")
    if values:
        text = one_line(_unescape_raw(clip(values[0], 1000)))
        inner = _MSGID.search(text)  # <address> (the same shape as a message id), or <>
        if inner is not None:
            return inner.group(1).lower()
        return "" if text.replace(" ", "") in ("", "<>") else text.strip("<> ").lower()
    senders = address_list(header_values(headers, "From"), [], name="From")
    return senders[0][1] if senders else "unknown"


# --- Bodies ----------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                         "pre", "table", "hr", "section", "article", "header", "footer", "ul", "ol", "dd", "dt"})
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: tags dropped, blocks on lines of their own."""
    extractor = _TextExtractor()
    with contextlib.suppress(Exception):  # html.parser copes with nearly anything; keep what was read
        extractor.feed(html)
        extractor.close()
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_HTML_TAGS = (set(nh3.ALLOWED_TAGS) - {"map", "area"}) | {"font", "center"}
_HTML_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "width", "height", "title"},
    "a": {"href", "title"},
    "font": {"color"},
    "td": {"colspan", "rowspan", "align", "valign", "width"},
    "th": {"colspan", "rowspan", "align", "valign", "width", "scope"},
    "table": {"width", "align", "summary"},
}
_INLINE_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]*$", re.IGNORECASE)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _INLINE_IMAGE.match(value) else None  # remote images are never loaded
    if attribute in ("href", "cite"):
        scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
        return value if scheme in ("http", "https", "mailto") else None
    return value


def sanitise_html(html: str) -> str:
    """HTML safe to show inside Rapport's pages."""
    return nh3.clean(
        html, tags=_HTML_TAGS, clean_content_tags={"script", "style", "title", "head", "noscript", "template"},
        attributes=_HTML_ATTRIBUTES, attribute_filter=_attribute_filter, strip_comments=True,
        link_rel="noopener noreferrer nofollow", url_schemes={"http", "https", "mailto", "data"},
    )


# --- Attachments -----------------------------------------------------------------------------------

def safe_filename(name: str, *, fallback: str = "attachment", content_type: str = "") -> str:
    """A file name fit to show and to offer for download (core.files.safe_filename), read from a raw header."""
    return files.safe_filename(_unescape_raw(name or ""), fallback=fallback, content_type=content_type)


# --- The message -----------------------------------------------------------------------------------


def _warn(warnings: list[str], text: str) -> None:
    if text not in warnings and len(warnings) < 50:
        warnings.append(text)


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def _declared_type(part: email.message.Message) -> str:
    try:
        return one_line(part.get_content_type())[:100]
    except Exception:
        return "application/octet-stream"


def _part_text(part: email.message.Message, warnings: list[str], where: str) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    if not isinstance(data, bytes):
        return str(data)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _bytes_to_text(data, _charset_codec(charset, warnings, where))


def _part_bytes(part: email.message.Message) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, email.message.Message):
            try:
                return inner.as_bytes(policy=email.policy.compat32)
            except Exception:
                return inner.as_string().encode("utf-8", "surrogateescape")
        if isinstance(payload, str):
            return payload.encode("utf-8", "surrogateescape")
        return b""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _filename(part: email.message.Message, warnings: list[str]) -> str:
    name: object
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        try:
            name = part.get_param("name")
            if isinstance(name, tuple):  # RFC 2231 (charset, language, value)
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = None
    return decode_header_value(name, warnings, name="Attachment name") if isinstance(name, str) else ""


def _is_attachment(part: email.message.Message, filename: str) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        disposition = ""
    if disposition == "attachment" or filename:
        return True
    return part.get_content_maintype() not in ("text", "multipart")


def _walk(part: email.message.Message, depth: int = 0) -> Iterable[email.message.Message]:
    """The leaf parts, in order; an attached message (message/*) is one leaf, not opened."""
    if depth > 30:
        return
    if part.get_content_maintype() == "message" or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    for child in payload if isinstance(payload, list) else []:
        if isinstance(child, email.message.Message):
            yield from _walk(child, depth + 1)


def _forwarded_from_text(text: str) -> list[str]:
    """The addresses in the header block of a message forwarded inline ("---- Forwarded message ----")."""
    found = _FORWARD_MARKERS.search(text)
    if found is None:
        return []
    addresses: list[str] = []
    for line in text[found.end():].lstrip("\r\n").splitlines()[:15]:
        if not line.strip():
            if addresses:
                break
            continue
        label = line.split(":", 1)[0].strip().lower().lstrip("*> ").rstrip("*")
        if label in ("from", "to", "cc", "von", "an", "de", "à", "a", "para", "van", "aan"):
            addresses.extend(match.lower() for match in _ADDRESS_IN_TEXT.findall(line))
    return _unique(clean_address(address) for address in addresses)


def _delivery_status(report: email.message.Message) -> tuple[list[str], bool]:
    """Failed recipients of a message/delivery-status part, and whether it says anything failed."""
    payload = report.get_payload()
    blocks = [block for block in payload if isinstance(block, email.message.Message)] if isinstance(
        payload, list) else []
    if not blocks and isinstance(payload, str):
        blocks = [email.message_from_string(chunk) for chunk in re.split(r"\r?\n\r?\n", payload) if chunk.strip()]
    addresses: list[str] = []
    failed = False
    for block in blocks:
        action = str(block.get("Action", "")).strip().lower()
        recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        if not recipient or action not in ("failed", ""):
            continue
        failed = failed or action == "failed"
        address = clean_address(recipient.split(";", 1)[-1])
        if address:
            addresses.append(address)
    return addresses, failed


DAEMONS = frozenset({"mailer-daemon", "postmaster"})


def is_daemon(address: str) -> bool:
    """Whether an address is a mail system's own (MAILER-DAEMON@…, postmaster@…), which sends bounces."""
    return address.strip().strip("<>").rsplit("@", 1)[0].strip().lower() in DAEMONS


def _bounce(message: email.message.Message, parts: list[email.message.Message],
            from_address: str) -> Bounce | None:
    """What a delivery report says failed: a delivery-status report (RFC 3464: multipart/report,
    report-type=delivery-status, with a failed recipient), or a failure notice from a mail daemon
    (From MAILER-DAEMON or postmaster) naming its failed recipients in X-Failed-Recipients. Nothing else
    is a bounce, whatever headers it carries: X-Failed-Recipients from anyone else means nothing.
    Whether the envelope fits a bounce (a null sender) is for the caller, which knows the envelope."""
    is_report = (message.get_content_type() == "multipart/report"
                 and str(message.get_param("report-type") or "").lower() == "delivery-status")
    daemon = is_daemon(from_address)
    if not is_report and not daemon:
        return None
    bounce = Bounce(report=is_report)
    failed = False
    for part in parts if is_report else []:
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            addresses, part_failed = _delivery_status(part)
            bounce.addresses.extend(addresses)
            failed = failed or part_failed
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            inner: email.message.Message | None = None
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
                inner = payload[0]
            elif isinstance(payload, str):
                inner = email.message_from_string(payload[:MAX_ADDRESS_HEADER_CHARS])
            if inner is not None:
                bounce.message_ids.extend(message_ids(clip(str(inner.get("Message-ID") or ""), MAX_HEADER_CHARS)))
    if not is_report:
        failed_header = ",".join(_unescape_raw(value) for value in header_values(message, "X-Failed-Recipients"))
        if not failed_header:
            return None  # a daemon's notice that names no failed recipient (a delay, a success) is no bounce
        failed = True
        bounce.addresses.extend(address for _name, address in address_list([failed_header], [], name="X"))
        for part in parts:  # a plain failure notice quotes the returned message's headers in its text
            if part.get_content_type() == "text/plain":
                for line in _part_text(part, [], "Bounce").splitlines():
                    if line[:11].lower() == "message-id:":
                        bounce.message_ids.extend(message_ids(line.split(":", 1)[1][:MAX_HEADER_CHARS]))
    if not failed:
        return None  # a delay or success notice is not a bounce
    bounce.addresses = _unique(bounce.addresses)[:MAX_BOUNCE_ADDRESSES]
    bounce.message_ids = _unique(bounce.message_ids)[:MAX_BOUNCE_IDS]
    return bounce if bounce.addresses or bounce.message_ids else None


def _sent_at(value: str, warnings: list[str]) -> datetime | None:
    """The Date header in UTC, or None (with a warning) when it is no date or not a believable one:
    before 1970 or more than two days ahead (pages show dates in local time; the year 9999 would not)."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)  # OverflowError at the ends of the calendar
    except Exception:
        moment = None
    if moment is None:
        _warn(warnings, f"Date: “{value[:60]}” is not a date; the time it arrived is used.")
        return None
    if not EARLIEST <= moment <= datetime.now(UTC) + FUTURE_SLACK:
        _warn(warnings, f"Date: “{value[:60]}” is not a believable date; the time it arrived is used.")
        return None
    return moment


def parse_message(raw: bytes) -> ParsedMessage:
    """Read a raw RFC 5322 message; never raises. Should reading fail in a way nobody foresaw, the
    message is still kept: recognised by its bytes, with a warning, its source the only reading."""
    try:
        return _parse(raw)
    except Exception as exc:
        logger.warning("Could not parse a message of %d bytes; kept as its source only", len(raw), exc_info=True)
        return ParsedMessage(dedupe_key=dedupe_key_for("", raw), warnings=[
            f"The message could not be read ({type(exc).__name__}); only its source is kept."])


def _parse(raw: bytes) -> ParsedMessage:
    warnings: list[str] = []
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:
        message = email.message.Message()
        message.set_payload(raw.decode("latin-1"))
        _warn(warnings, "The message could not be read as MIME; its text is kept as it came.")
    for defect in message.defects[:5]:
        _warn(warnings, f"Malformed message: {type(defect).__name__}.")

    raw_id = _header(message, "Message-ID", warnings)
    ids = message_ids(raw_id)
    message_id = ids[0][:255] if ids else ""
    if raw_id and not message_id:
        _warn(warnings, "Message-ID: not a message id; the message is recognised by its content.")
    parsed = ParsedMessage(dedupe_key=dedupe_key_for(message_id, raw), message_id=message_id, warnings=warnings)
    parsed.in_reply_to = _id_header(message, "In-Reply-To", warnings)
    parsed.references = _id_header(message, "References", warnings)
    parsed.subject = _header(message, "Subject", warnings)[:300]

    senders = address_list(header_values(message, "From"), warnings, name="From")
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    else:
        _warn(warnings, "The message has no From address.")
    parsed.to = _unique(address for _name, address in address_list(header_values(message, "To"), warnings,
                                                                           name="To"))
    parsed.cc = _unique(address for _name, address in address_list(header_values(message, "Cc"), warnings,
                                                                           name="Cc"))
    delivered: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "Bcc"):
        delivered.extend(address for _n, address in address_list(header_values(message, name), [], name=name))
    parsed.delivered_to = _unique(delivered)
    parsed.sent_at = _sent_at(_header(message, "Date", warnings), warnings)

    parts = list(_walk(message))
    text, html = "", ""
    for index, part in enumerate(parts):
        try:
            filename = _filename(part, warnings)
            kind = _declared_type(part)
            if not _is_attachment(part, filename):
                if kind == "text/plain":  # inline text parts (some clients split the text around files)
                    body = _part_text(part, warnings, "Text")
                    text = f"{text}\n{body}" if text else body
                    continue
                if kind == "text/html":
                    html = html or _part_text(part, warnings, "HTML")  # the first; others are alternatives
                    continue
            if kind in ("message/delivery-status", "text/rfc822-headers") and not filename:
                continue  # the machine-readable parts of a delivery report: read by _bounce
            if len(parsed.attachments) >= MAX_ATTACHMENTS:
                _warn(warnings, f"More than {MAX_ATTACHMENTS} attachments; the rest are only in the source.")
                continue
            content = _part_bytes(part)
            if kind == "message/rfc822":
                inner = part.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                    parsed.forwarded_addresses.extend(
                        address for name in ("From", "To", "Cc")
                        for _n, address in address_list(header_values(inner[0], name), [], name=name))
                    if not filename:
                        filename = _header(inner[0], "Subject", [])[:200] + ".eml"
            detected = sniff_type(content)
            parsed.attachments.append(ParsedAttachment(
                filename=safe_filename(filename, fallback=f"attachment-{index + 1}", content_type=detected),
                declared_type=kind, detected_type=detected, content=content))
        except Exception as exc:  # one unreadable part must not cost the rest of the message
            _warn(warnings, f"Part {index + 1} could not be read ({type(exc).__name__}); it is only in the source.")

    if html:
        parsed.html_body = sanitise_html(html)
        if len(parsed.html_body) > MAX_HTML_CHARS:
            parsed.html_body = ""
            _warn(warnings, "The HTML body is too long to show; it is in the source.")
    if not text and html:
        text = html_to_text(html)
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        _warn(warnings, "The text is longer than Rapport keeps; the whole of it is in the source.")
    parsed.text_body = text
    parsed.forwarded_addresses = _unique([*parsed.forwarded_addresses, *_forwarded_from_text(text)])
    parsed.bounce = _bounce(message, parts, parsed.from_address)
    return parsed
