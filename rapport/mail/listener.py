"""The SMTP listener users BCC or forward mail to (`rapport mail-listen`, started by `make run`).

An aiosmtpd server: it accepts a recipient only when it is a user's logging address or the support
address (550 otherwise, before any data is sent), refuses a message larger than
RAPPORT_MAIL_MAX_BYTES (552), and hands each message to `rapport.mail.intake.log_message` in a worker
thread (the database is not used from the event loop). A message that cannot be stored is answered
451 (try again later: the sender's server keeps it and retries) or 554 (refused for good); the
listener itself keeps running whatever one message does.

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


def known_recipient(address: str) -> bool:
    """Whether the listener accepts mail for an address: a user's logging address or the support address."""
    from rapport.mail.parsing import clean_address
    from rapport.mail.selectors import user_for_logging_address

    cleaned = clean_address(address)
    if not cleaned:
        return False
    if cleaned == clean_address(settings.RAPPORT_SUPPORT_ADDRESS):
        return True
    return user_for_logging_address(cleaned) is not None


def _receive(raw: bytes, recipients: list[str]) -> Any:
    from rapport.mail.intake import log_message

    return log_message(raw, recipients=recipients, source=EmailSource.SMTP)


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
            known = await self._run(lambda: known_recipient(address))
        except Exception:
            logger.exception("Could not check the recipient %r", address)
            return "451 4.3.0 Temporary failure; try again later"
        if not known:
            logger.info("Refused mail for %r: not a logging or support address", address)
            return "550 5.1.1 No such logging address here"
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
        try:
            result = await self._run(lambda: _receive(raw, recipients))
        except ValidationError as exc:
            logger.warning("Refused a message for %s: %s", recipients, "; ".join(exc.messages))
            return "554 5.6.0 The message could not be logged: " + " ".join(" ".join(exc.messages).split())[:200]
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
