"""The campaign tests' fixtures: `smtp_server`, a real SMTP server on 127.0.0.1 (tests/mail/smtp.py)."""

from tests.mail.smtp import smtp_server  # noqa: F401 - the fixture
