"""`rapport app-password create USERNAME DEVICE`: an app password for a calendar or contact client."""

from __future__ import annotations

import re

import pytest

from rapport.cli import main
from rapport.sync.models import AppPassword
from rapport.sync.services import app_password_authenticate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_prints_the_password_alone_on_its_last_line_and_it_signs_in(capsys):
    user = UserFactory(username="sales1")
    assert main(["app-password", "create", "sales1", "Work laptop, Outlook"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 2, "an explanation comes first"
    assert "shown once" in "\n".join(lines[:-1])
    plaintext = lines[-1]
    assert re.fullmatch(r"[a-z2-9]{5}(-[a-z2-9]{5}){3}", plaintext)
    assert app_password_authenticate(username="sales1", password=plaintext) == user
    assert AppPassword.objects.get(user=user).device == "Work laptop, Outlook"


def test_an_unknown_user_is_named_on_stderr_with_exit_code_2(capsys):
    assert main(["app-password", "create", "nobody", "Phone"]) == 2
    captured = capsys.readouterr()
    assert "No user named 'nobody'" in captured.err
    assert captured.out == ""
    assert not AppPassword.objects.exists()


def test_an_empty_device_name_is_refused_with_exit_code_2(capsys):
    UserFactory(username="sales1")
    assert main(["app-password", "create", "sales1", "  "]) == 2
    captured = capsys.readouterr()
    assert "Name the device" in captured.err
    assert captured.out == ""
    assert not AppPassword.objects.exists()
