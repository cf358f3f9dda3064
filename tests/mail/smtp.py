"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), and the settings that send mail to it.

    def test_something(smtp_server):  # the fixture, in tests/mail/conftest.py
        ...  # queue mail, run deliver_due()
        [received] = smtp_server.messages
        received.message["Message-ID"], received.text, received.rcpt_tos

Elsewhere (another directory's conftest may import the fixture, `from tests.mail.smtp import smtp_server`),
or inside a fixture of one's own:

    with smtp_listener(settings) as server:  # pytest-django's `settings`
        ...

`SmtpServer(port)` can also be made and started later, for an SMTP outage or a server that stops
half-way; `send_mail_to(settings, port)` points Django's SMTP backend at a port whether or not anything
listens there.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The plain-text body, decoded."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server in a thread of the test process; what it receives is in `messages`."""

    def __init__(self, port: int | None = None) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def to(self, address: str) -> list[Received]:
        """The messages received for one recipient."""
        return [received for received in self.messages if address in received.rcpt_tos]


def send_mail_to(settings: Any, port: int) -> None:
    """Django's SMTP backend, plain SMTP to 127.0.0.1:port (pytest-django's `settings` fixture)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@contextmanager
def smtp_listener(settings: Any) -> Iterator[SmtpServer]:
    """A running SMTP server on 127.0.0.1 that Django sends to until the block ends."""
    server = SmtpServer()
    send_mail_to(settings, server.port)
    with server:
        yield server


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A running SMTP server on 127.0.0.1 that Django sends to for the length of the test."""
    with smtp_listener(settings) as server:
        yield server
