"""Polling a mailbox for mail to log (`rapport mail-poll`, and every minute by the scheduler).

RAPPORT_IMAP_URL names the mailbox: imaps://user:password@host:993/INBOX (TLS), or
imap://user:password@host:143/INBOX?tls=1 (STARTTLS), or imap://… without tls for a server on the
same machine. Each poll reads the unseen messages by UID without marking them (BODY.PEEK), logs each
with `log_message`, and marks it \\Seen only once it is stored. A crash in between leaves the message
unseen: the next poll reads it again and finds it stored already (the same Message-ID is stored once
per owner), so nothing is lost and nothing is logged twice.

A message larger than RAPPORT_MAIL_MAX_BYTES is not downloaded: it is marked \\Seen and \\Flagged,
so it is not looked at again and stands out in a mail client, and a warning is logged. A message that
fails to store stays unseen and is tried again at the next poll.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings

from rapport.mail.models import EmailSource

logger = logging.getLogger(__name__)

BATCH = 200
TIMEOUT = 60
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.IGNORECASE)


class ImapConfigError(ValueError):
    """RAPPORT_IMAP_URL is not a mailbox address Rapport can use."""


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    username: str
    password: str
    mailbox: str = "INBOX"
    ssl: bool = True
    starttls: bool = False

    def __str__(self) -> str:  # never shows the password
        scheme = "imaps" if self.ssl else "imap"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.mailbox}"


def parse_imap_url(url: str) -> Mailbox:
    """The mailbox an imap:// or imaps:// URL names; ImapConfigError naming what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ImapConfigError("RAPPORT_IMAP_URL must look like imaps://user:password@host:993/INBOX")
    if not parts.username:
        raise ImapConfigError("RAPPORT_IMAP_URL has no user name (imaps://user:password@host/INBOX)")
    try:
        port = parts.port
    except ValueError:
        raise ImapConfigError("RAPPORT_IMAP_URL has a port that is not a number") from None
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"tls"})
    if unknown:
        raise ImapConfigError(f"RAPPORT_IMAP_URL: unknown option {', '.join(unknown)}; the only one is tls=1")
    starttls = query.get("tls", ["0"])[0].lower() in ("1", "true", "yes")
    if parts.scheme == "imaps" and starttls:
        raise ImapConfigError("RAPPORT_IMAP_URL: imaps:// is TLS from the start; drop ?tls=1 (that is for imap://)")
    return Mailbox(
        host=parts.hostname, port=port or (993 if parts.scheme == "imaps" else 143),
        username=unquote(parts.username), password=unquote(parts.password or ""),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX", ssl=parts.scheme == "imaps", starttls=starttls,
    )


@dataclass
class PollResult:
    logged: int = 0  # new copies stored
    duplicates: int = 0  # messages that were stored already (marked seen now)
    bounces: int = 0  # campaign bounces, consumed by campaigns
    skipped: int = 0  # too large, or nobody to own them
    failed: int = 0  # errors; left unseen for the next poll

    def __str__(self) -> str:
        return (f"Logged {self.logged} message{'s' if self.logged != 1 else ''} "
                f"({self.duplicates} stored already, {self.bounces} campaign bounces, {self.skipped} skipped, "
                f"{self.failed} failed).")


def _connect(box: Mailbox) -> imaplib.IMAP4:
    if box.ssl:
        return imaplib.IMAP4_SSL(box.host, box.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT)
    conn = imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT)
    if box.starttls:
        conn.starttls(ssl_context=ssl.create_default_context())
    return conn


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(typ: str, data: list, what: str) -> list:
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {data!r}")
    return data


def _message_bytes(data: list) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _size(data: list) -> int | None:
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            found = _SIZE.search(line)
            if found:
                return int(found.group(1))
    return None


def poll_once(url: str | None = None, *, limit: int = BATCH) -> PollResult:
    """Log the unseen messages of the mailbox (at most `limit`); raises on a connection or login error."""
    from rapport.mail.intake import log_message
    from rapport.mail.parsing import header_recipients

    box = parse_imap_url(url if url is not None else settings.RAPPORT_IMAP_URL)
    result = PollResult()
    conn = _connect(box)
    try:
        _check(*conn.login(box.username, box.password), "LOGIN")
        _check(*conn.select(_quote(box.mailbox)), f"SELECT {box.mailbox}")
        found = _check(*conn.uid("SEARCH", "UNSEEN"), "SEARCH")
        uids = [uid.decode() for uid in (found[0] or b"").split()][:limit]
        for uid in uids:
            size = _size(_check(*conn.uid("FETCH", uid, "(RFC822.SIZE)"), "FETCH size"))
            if size is not None and size > settings.RAPPORT_MAIL_MAX_BYTES:
                logger.warning("Mailbox %s: message UID %s has %d bytes, more than RAPPORT_MAIL_MAX_BYTES; "
                               "not logged (marked seen and flagged)", box, uid, size)
                _check(*conn.uid("STORE", uid, "+FLAGS", r"(\Seen \Flagged)"), "STORE")
                result.skipped += 1
                continue
            raw = _message_bytes(_check(*conn.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH"))
            if raw is None:
                logger.warning("Mailbox %s: message UID %s came without content; tried again next time", box, uid)
                result.failed += 1
                continue
            try:
                outcome = log_message(raw, recipients=header_recipients(raw), source=EmailSource.IMAP)
            except Exception:
                logger.exception("Mailbox %s: could not log message UID %s; left unseen", box, uid)
                result.failed += 1
                continue
            if outcome.refused:
                logger.warning("Mailbox %s: message UID %s not logged: %s", box, uid, outcome.refused)
                result.skipped += 1
                continue
            # Stored and committed: only now is it marked, so a crash before this line costs a re-read.
            _check(*conn.uid("STORE", uid, "+FLAGS", r"(\Seen)"), "STORE")
            result.logged += outcome.logged
            result.bounces += int(outcome.bounce)
            result.duplicates += int(outcome.duplicate)
    finally:
        try:
            conn.logout()
        except Exception:  # the connection is going away anyway
            logger.debug("IMAP logout failed", exc_info=True)
    return result
