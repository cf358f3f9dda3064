"""Polling a mailbox for mail to log (`rapport mail-poll`, and every minute by the scheduler).

RAPPORT_IMAP_URL names the mailbox: imaps://user:password@host:993/INBOX (TLS), or
imap://user:password@host:143/INBOX?tls=1 (STARTTLS); plain imap:// without tls only for a server on
the same machine (the password would cross the network readable). Each poll reads the unseen
messages by UID, oldest first, without marking them (BODY.PEEK), logs each with `log_message`, and
marks it \\Seen only once it is stored. A crash in between leaves the message unseen: the next poll
reads it again and finds it stored already (the same Message-ID is stored once per owner), so nothing
is lost and nothing is logged twice.

A message that cannot be logged is not tried for ever, and never keeps new mail waiting: each failure
is counted on the message itself with a keyword ($RapportFailed, then $RapportFailed2), messages that
failed before are tried after the new ones, and the third failure sets \\Seen, \\Flagged and
$RapportSkipped, so it stands out in a mail client and is not looked at again (a warning is logged).
A message larger than RAPPORT_MAIL_MAX_BYTES (not downloaded) or that nobody can own is skipped so at
once. A database that is down stops the poll without counting anything: the next poll tries again.
To have a skipped message read again, remove its $RapportSkipped keyword and \\Seen flag.

Only one poll runs at a time (the scheduler enqueues one every minute, however long the last one takes):
a poll that finds another running does nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import ipaddress
import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection

from rapport.mail.models import EmailSource

logger = logging.getLogger(__name__)

BATCH = 200
TIMEOUT = 60
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.IGNORECASE)
# IMAP keywords Rapport sets on messages it could not log: failed once, twice; skipped for good.
FAILED_ONCE = "$RapportFailed"
FAILED_TWICE = "$RapportFailed2"
SKIPPED = "$RapportSkipped"
MAX_FAILURES = 3
_LOCK_NAME = "rapport.mail.imap.poll"


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
    if parts.scheme == "imap" and not starttls and not _local(parts.hostname):
        raise ImapConfigError(f"RAPPORT_IMAP_URL: plain imap:// sends the password unencrypted; for "
                              f"{parts.hostname} use imaps://…:993 (or imap://…?tls=1 for STARTTLS)")
    return Mailbox(
        host=parts.hostname, port=port or (993 if parts.scheme == "imaps" else 143),
        username=unquote(parts.username), password=unquote(parts.password or ""),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX", ssl=parts.scheme == "imaps", starttls=starttls,
    )


def _local(host: str) -> bool:
    """Whether a host is this machine (plain IMAP stays on it)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class PollResult:
    logged: int = 0  # new copies stored
    duplicates: int = 0  # messages that were stored already (marked seen now)
    bounces: int = 0  # campaign bounces, consumed by campaigns
    skipped: int = 0  # too large, nobody to own them, or failed too often: flagged, not tried again
    failed: int = 0  # errors; left unseen for the next poll (counted on the message)
    busy: bool = False  # another poll was running: this one did nothing

    def __str__(self) -> str:
        if self.busy:
            return "Another poll of the mailbox is running; nothing done."
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


@contextlib.contextmanager
def _poll_lock() -> Iterator[bool]:
    """Whether this process may poll now: True for the one poll that holds the lock, False while another
    runs. PostgreSQL: a session advisory lock (whichever machine the worker runs on); SQLite (one machine):
    a lock on a file in RAPPORT_VAR_DIR."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(_LOCK_NAME.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
                except DatabaseError:  # a broken connection: closing it releases the lock
                    logger.warning("Could not release the mailbox poll lock; it goes with the connection")
        return
    try:
        import fcntl
    except ImportError:  # not a POSIX system: polls may overlap (each message is still stored once)
        yield True
        return
    path = Path(settings.VAR_DIR) / "mail-poll.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def poll_once(url: str | None = None, *, limit: int = BATCH) -> PollResult:
    """Log the unseen messages of the mailbox (at most `limit`: those never tried first, oldest first,
    then those that failed before); raises on a connection or login error. Does nothing while another
    poll runs."""
    box = parse_imap_url(url if url is not None else settings.RAPPORT_IMAP_URL)
    with _poll_lock() as acquired:
        if not acquired:
            logger.info("Mailbox %s: another poll is running; this one does nothing", box)
            return PollResult(busy=True)
        return _Poll(box).run(limit)


def _uids(data: list) -> list[str]:
    return sorted({uid.decode() for uid in (data[0] or b"").split()}, key=int) if data else []


class _Poll:
    """One poll of one mailbox over one connection."""

    conn: imaplib.IMAP4

    def __init__(self, box: Mailbox) -> None:
        self.box = box
        self.result = PollResult()

    def run(self, limit: int) -> PollResult:
        self.conn = _connect(self.box)
        try:
            _check(*self.conn.login(self.box.username, self.box.password), "LOGIN")
            _check(*self.conn.select(_quote(self.box.mailbox)), f"SELECT {self.box.mailbox}")
            fresh = self._search(f"UNSEEN UNKEYWORD {SKIPPED} UNKEYWORD {FAILED_ONCE}")
            retried = self._search(f"UNSEEN UNKEYWORD {SKIPPED} KEYWORD {FAILED_ONCE}") if len(fresh) < limit else []
            twice = set(self._search(f"UNSEEN UNKEYWORD {SKIPPED} KEYWORD {FAILED_TWICE}")) if retried else set()
            never_tried = set(fresh)
            for uid in [*fresh, *retried][:limit]:
                failures = 0 if uid in never_tried else (2 if uid in twice else 1)
                if not self._one(uid, failures):
                    break
        finally:
            try:
                self.conn.logout()
            except Exception:  # the connection is going away anyway
                logger.debug("IMAP logout failed", exc_info=True)
        return self.result

    def _search(self, criteria: str) -> list[str]:
        return _uids(_check(*self.conn.uid("SEARCH", criteria), "SEARCH"))

    def _one(self, uid: str, failures: int) -> bool:
        """Log one message; False when the poll should stop (the database is down)."""
        from rapport.mail import intake
        from rapport.mail.parsing import header_recipients, return_path

        box, result = self.box, self.result
        size = _size(_check(*self.conn.uid("FETCH", uid, "(RFC822.SIZE)"), "FETCH size"))
        if size is not None and size > settings.RAPPORT_MAIL_MAX_BYTES:
            self._skip(uid, f"it has {size} bytes, more than RAPPORT_MAIL_MAX_BYTES")
            return True
        raw = _message_bytes(_check(*self.conn.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH"))
        if raw is None:
            self._failed(uid, failures, "it came without content")
            return True
        try:
            outcome = intake.log_message(raw, recipients=header_recipients(raw), source=EmailSource.IMAP,
                                         envelope_sender=return_path(raw))
        except DatabaseError:
            logger.exception("Mailbox %s: could not store message UID %s; the poll stops here, the next "
                             "one tries again", box, uid)
            result.failed += 1
            return False
        except ValidationError as exc:  # a setup problem (no user can own support items): not the message's
            logger.error("Mailbox %s: message UID %s not logged: %s; left unseen", box, uid, "; ".join(exc.messages))
            result.failed += 1
            return True
        except Exception as exc:
            logger.exception("Mailbox %s: could not log message UID %s", box, uid)
            self._failed(uid, failures, f"{type(exc).__name__}: {exc}"[:200])
            return True
        if outcome.refused:
            self._skip(uid, outcome.refused)
            return True
        # Stored and committed: only now is it marked, so a crash before this line costs a re-read.
        _check(*self.conn.uid("STORE", uid, "+FLAGS", r"(\Seen)"), "STORE")
        if failures:
            self._keywords(uid, "-FLAGS", FAILED_ONCE, FAILED_TWICE)
        result.logged += outcome.logged
        result.bounces += int(outcome.bounce)
        result.duplicates += int(outcome.duplicate)
        return True

    def _keywords(self, uid: str, mode: str, *keywords: str) -> bool:
        """Set or clear keywords; False when the server keeps none (it may refuse them)."""
        typ, data = self.conn.uid("STORE", uid, mode, f"({' '.join(keywords)})")
        if typ != "OK":
            logger.warning("Mailbox %s: the server refused keywords %s on UID %s: %r", self.box, keywords, uid, data)
        return typ == "OK"

    def _failed(self, uid: str, failures: int, why: str) -> None:
        """Count a failure on the message; the last one allowed skips it."""
        failures += 1
        if failures >= MAX_FAILURES:
            self._skip(uid, f"logging it failed {failures} times (last: {why})")
        elif not self._keywords(uid, "+FLAGS", FAILED_ONCE if failures == 1 else FAILED_TWICE):
            # A server without keywords cannot count: skip at once rather than block the mailbox.
            self._skip(uid, f"logging it failed ({why}); the server keeps no keywords to count failures")
        else:
            self.result.failed += 1
            logger.warning("Mailbox %s: could not log message UID %s (%s); failure %d of %d, tried again at "
                           "the next poll", self.box, uid, why, failures, MAX_FAILURES)

    def _skip(self, uid: str, why: str) -> None:
        """Leave the message on the server, seen and flagged, never looked at again."""
        logger.warning("Mailbox %s: message UID %s skipped: %s; marked seen and flagged (%s)", self.box, uid, why,
                       SKIPPED)
        _check(*self.conn.uid("STORE", uid, "+FLAGS", r"(\Seen \Flagged)"), "STORE")
        self._keywords(uid, "+FLAGS", SKIPPED)
        self.result.skipped += 1
