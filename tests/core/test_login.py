"""Signing in and out: throttling, redirects after sign-in, and what anonymous visitors get."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from rapport.core.models import LoginFailure
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """The throttle does not depend on the hasher; Argon2 would make each attempt slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db):
    return UserFactory(username="anna", password=make_password(PASSWORD))


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def test_sign_in_with_the_right_password(user):
    client = Client()
    response = sign_in(client, "anna", PASSWORD)
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_wrong_password_shows_the_form_again(user):
    response = sign_in(Client(), "anna", "wrong")
    assert response.status_code == 400
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in Client().session


def test_five_failures_lock_the_username_even_for_the_right_password(user):
    client = Client()
    for _ in range(5):
        assert sign_in(client, "anna", "wrong").status_code == 400
    response = sign_in(client, "anna", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert client.get("/accounts/").status_code == 302  # still signed out


def test_the_lock_holds_from_another_address_and_spares_other_usernames(user):
    UserFactory(username="bert", password=make_password(PASSWORD))
    for _ in range(5):
        sign_in(Client(REMOTE_ADDR="10.0.0.1"), "anna", "wrong")
    assert sign_in(Client(REMOTE_ADDR="10.0.0.2"), "anna", PASSWORD).status_code == 429
    assert sign_in(Client(), "bert", PASSWORD).status_code == 302


def test_failures_older_than_the_window_do_not_count(user, settings):
    for _ in range(5):
        LoginFailure.objects.create(username="anna")
    old = timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS + 60)
    LoginFailure.objects.update(at=old)
    assert sign_in(Client(), "anna", PASSWORD).status_code == 302


def test_success_clears_the_failures(user):
    client = Client()
    for _ in range(4):
        sign_in(client, "anna", "wrong")
    assert sign_in(client, "anna", PASSWORD).status_code == 302
    other = Client()
    for _ in range(4):
        sign_in(other, "anna", "wrong")
    assert sign_in(other, "anna", PASSWORD).status_code == 302


def test_sign_out_is_post_only(user):
    client = Client()
    client.force_login(user)
    assert client.get("/logout/").status_code == 405
    assert client.get("/accounts/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/accounts/").status_code == 302


def test_anonymous_page_visit_goes_to_sign_in_and_back(user):
    client = Client()
    response = client.get("/contacts/?q=ann")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/contacts/%3Fq%3Dann"
    response = sign_in(client, "anna", PASSWORD, next="/contacts/?q=ann")
    assert response["Location"] == "/contacts/?q=ann"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "http:\\\\evil.example",
                                    "javascript:alert(1)"])
def test_next_pointing_elsewhere_is_ignored(user, target):
    client = Client()
    page = client.get("/login/", {"next": target})
    assert b"evil.example" not in page.content and b"javascript:" not in page.content
    response = sign_in(client, "anna", PASSWORD, next=target)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_form_posts_need_a_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    assert sign_in(client, "anna", PASSWORD).status_code == 403


def test_spellings_of_a_username_share_one_lock_and_the_admin_sign_in_shares_it_too():
    user = UserFactory(username="owner")
    client = Client()
    for spelling in ("owner", "owner ", "\towner", "OWNER", "ｏｗｎｅｒ", "owner"):
        client.post("/login/", {"username": spelling, "password": "wrong"})
    assert client.post("/login/", {"username": " owner", "password": PASSWORD}).status_code == 429
    admin_answer = Client().post("/admin/login/?next=/admin/", {"username": "owner", "password": PASSWORD})
    assert admin_answer.status_code == 429
    assert not LoginFailure.objects.exclude(username="owner").exists()
    assert user.pk


def test_a_signed_in_user_who_may_not_use_the_admin_is_not_sent_round_in_circles():
    client = Client()
    client.force_login(UserFactory(username="clerk"))
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 302 and answer["Location"] == "/"
