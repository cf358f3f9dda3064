"""EMAIL_URL: how an administrator points Rapport at a mail server."""

from __future__ import annotations

import pytest

from rapport.env import ConfigurationError
from rapport.settings import _email_settings

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_smtp_with_user_password_port_and_starttls():
    settings = _email_settings("smtp://mailer:s%40cret%2F1@mail.example.com:2525?tls=1")

    assert settings == {
        "EMAIL_BACKEND": SMTP, "EMAIL_HOST": "mail.example.com", "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mailer", "EMAIL_HOST_PASSWORD": "s@cret/1",
        "EMAIL_USE_SSL": False, "EMAIL_USE_TLS": True, "EMAIL_TIMEOUT": 30,
    }


def test_plain_smtp_defaults_to_port_25_without_tls_or_login():
    settings = _email_settings("smtp://127.0.0.1")

    assert (settings["EMAIL_HOST"], settings["EMAIL_PORT"]) == ("127.0.0.1", 25)
    assert (settings["EMAIL_USE_TLS"], settings["EMAIL_USE_SSL"]) == (False, False)
    assert (settings["EMAIL_HOST_USER"], settings["EMAIL_HOST_PASSWORD"]) == ("", "")


def test_smtps_is_implicit_tls_on_port_465():
    settings = _email_settings("smtps://mailer:pw@mail.example.com")

    assert settings["EMAIL_BACKEND"] == SMTP
    assert (settings["EMAIL_PORT"], settings["EMAIL_USE_SSL"], settings["EMAIL_USE_TLS"]) == (465, True, False)
    assert _email_settings("smtps://mail.example.com:1465")["EMAIL_PORT"] == 1465


@pytest.mark.parametrize("url", ["", "console:"])
def test_console_or_nothing_prints_mail(url, monkeypatch):
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    assert _email_settings(url) == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


@pytest.mark.parametrize("url", ["http://mail.example.com", "imap://mail.example.com:993", "smtp://",
                                 "mail.example.com:25"])
def test_anything_else_stops_rapport_with_a_clear_message(url):
    with pytest.raises(ConfigurationError, match=r"EMAIL_URL must look like smtp://user:password@host:port"):
        _email_settings(url)


def test_a_port_that_is_not_a_number_is_named():
    with pytest.raises(ConfigurationError, match="EMAIL_URL has a port that is not a number"):
        _email_settings("smtp://mail.example.com:twenty-five")


def test_implicit_and_starttls_together_stop_rapport_at_start_up():
    with pytest.raises(ConfigurationError):
        _email_settings("smtps://mail.example.com?tls=1")


@pytest.mark.parametrize("url", ["smtp://mail.example.com?ssl=1", "smtp://mail.example.com?starttls=1",
                                 "smtp://mail.example.com?tls=on"])
def test_a_mistyped_option_stops_rapport_at_start_up(url):
    with pytest.raises(ConfigurationError, match="EMAIL_URL"):
        _email_settings(url)
