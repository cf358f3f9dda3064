"""The SMTP listener users BCC or forward mail to (`rapport mail-listen`, started by `make run`).

An aiosmtpd server: it accepts a recipient only when it is the logging address of a user who may
change logged email, or the support address (550 otherwise, before any data is sent), refuses a
message larger than RAPPORT_MAIL_MAX_BYTES (552), and hands each message with its envelope (MAIL FROM,
RCPT TO) to `rapport.mail.intake.log_message` in a worker thread (the database is not used from the
event loop). A message that cannot be stored now — the database is down, or Rapport is not set up to
take it (no user can own support items) — is answered 451 (try again later: the sender's server keeps
it and retries); one refused for good, 554. The listener itself keeps running whatever one message does.

It speaks plain SMTP without authentication or TLS: run it on 127.0.0.1 (the default) or a private
network behind the company's mail server, which relays the logging domain to it (docs/mail.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections

from rapport.mail.models import EmailSource

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RECIPIENTS = 100
IDENT = "Rapport mail intake"


def in_fresh_connection(function: Callable[[], T]) -> T:
    """Run database work in a listener thread, dropping connections that are old or broken around it."""
    close_old_connections()
    try:
        return function()
    finally:
        close_old_connections()


def recipient_refusal(address: str) -> str:
    """Why the listener refuses mail for an address (an SMTP reply), or "" when it takes it: the support
    address, or the logging address of an active user whose role may change logged email."""
    from rapport.mail.parsing import clean_address
    from rapport.mail.selectors import may_log, user_for_logging_address

    cleaned = clean_address(address)
    if cleaned and cleaned == clean_address(settings.RAPPORT_SUPPORT_ADDRESS):
        return ""
    user = user_for_logging_address(cleaned) if cleaned else None
    if user is None:
        return "550 5.1.1 No such logging address here"
    if not may_log(user):
        return "550 5.7.1 This user may not log email in Rapport (their role cannot change logged email)"
    return ""


def _receive(raw: bytes, recipients: list[str], mail_from: str) -> Any:
    from rapport.mail.intake import log_message

    return log_message(raw, recipients=recipients, source=EmailSource.SMTP, envelope_sender=mail_from)


class IntakeHandler:
    """aiosmtpd handler: RCPT checks the address, DATA logs the message.

    `runner` runs a piece of database work in the handler's worker thread (tests pass one that
    shares the test's connection); `max_bytes` defaults to RAPPORT_MAIL_MAX_BYTES.
    """

    def __init__(self, *, max_bytes: int | None = None, runner: Callable[[Callable[[], Any]], Any] | None = None,
                 workers: int = 4) -> None:
        self.max_bytes = max_bytes if max_bytes is not None else settings.RAPPORT_MAIL_MAX_BYTES
        self.runner = runner or in_fresh_connection
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rapport-mail")

    async def _run(self, function: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.runner, function)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            refusal = await self._run(lambda: recipient_refusal(address))
        except Exception:
            logger.exception("Could not check the recipient %r", address)
            return "451 4.3.0 Temporary failure; try again later"
        if refusal:
            logger.info("Refused mail for %r: %s", address, refusal)
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if len(raw) > self.max_bytes:
            logger.info("Refused a message of %d bytes (the limit is %d)", len(raw), self.max_bytes)
            return f"552 5.3.4 Message too large (at most {self.max_bytes} bytes)"
        recipients = list(envelope.rcpt_tos)
        mail_from = envelope.mail_from or ""
        try:
            result = await self._run(lambda: _receive(raw, recipients, mail_from))
        except ValidationError as exc:
            # Rapport is not set up to take it (no user can own support items): the sender's server
            # keeps the message and retries while an administrator fixes the setting.
            logger.error("Could not log a message for %s: %s; the sender will retry", recipients,
                         "; ".join(exc.messages))
            return "451 4.3.5 Mail system not set up to take this message now; try again later"
        except Exception:
            logger.exception("Could not log a message for %s; the sender will retry", recipients)
            return "451 4.3.0 Temporary failure; try again later"
        if result.refused:
            return f"554 5.7.1 {result.refused}"
        return "250 2.0.0 Logged" if not result.duplicate else "250 2.0.0 Logged already"

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def make_controller(host: str, port: int, *, handler: IntakeHandler | None = None) -> Controller:
    """An aiosmtpd controller for the listener (not started)."""
    handler = handler or IntakeHandler()
    return Controller(
        handler, hostname=host, port=port, server_hostname=settings.RAPPORT_MAIL_DOMAIN, ident=IDENT,
        data_size_limit=handler.max_bytes, enable_SMTPUTF8=True, decode_data=False,
    )


def parse_listen(value: str) -> tuple[str, int]:
    """"host:port" of RAPPORT_MAIL_LISTEN (or --host/--port) as a pair; ValueError when malformed."""
    host, _colon, port = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"RAPPORT_MAIL_LISTEN must look like 127.0.0.1:2525, not {value!r}")
    return host, int(port)


def serve(host: str, port: int, stop: threading.Event) -> None:
    """Listen until `stop` is set."""
    # aiosmtpd logs every command at INFO; Rapport logs what became of each message (rapport.mail.intake).
    logging.getLogger("mail.log").setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))
    handler = IntakeHandler()
    controller = make_controller(host, port, handler=handler)
    controller.start()
    logger.info("Mail listener on %s:%d", host, port)
    try:
        stop.wait()
    finally:
        controller.stop()
        handler.close()
