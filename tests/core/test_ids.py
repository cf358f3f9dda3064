"""Public ids: 16 characters of lowercase base32, never repeated, opaque; those of one hour share their start,
so that a bulk write lands in one part of each unique index."""

from __future__ import annotations

import pytest
from django.test import override_settings

from rapport.core import ids
from rapport.core.ids import PUBLIC_ID_LENGTH, SHARED_LENGTH, new_public_id, new_public_ids, new_secret
from tests.factories import AccountFactory

ALPHABET = set("abcdefghijklmnopqrstuvwxyz234567")
HOUR = 491_234  # an hour in 2026
# A fixed secret, so that starts compared below are the same on every run (each is 20 bits: two could match).
SECRET = "a fixed secret for the tests of the ids' start"


@pytest.mark.parametrize("count", [1, 2, 3, 5000])
def test_ids_made_in_bulk_look_like_single_ones_and_never_repeat(count):
    made = new_public_ids(count)
    assert len(made) == count and len(set(made)) == count
    assert all(len(pid) == PUBLIC_ID_LENGTH and set(pid) <= ALPHABET for pid in made)
    single = new_public_id()
    assert len(single) == PUBLIC_ID_LENGTH and set(single) <= ALPHABET and single not in made


@override_settings(SECRET_KEY=SECRET)
def test_ids_of_one_hour_share_their_start_and_those_of_other_hours_do_not(monkeypatch):
    monkeypatch.setattr(ids, "_hour", lambda: HOUR)
    this_hour = new_public_ids(1000) + [new_public_id() for _ in range(10)]
    assert {pid[:SHARED_LENGTH] for pid in this_hour} == {this_hour[0][:SHARED_LENGTH]}
    # ... and differ after it: 60 random bits each, so no two repeat even among a thousand
    assert len({pid[SHARED_LENGTH:] for pid in this_hour}) == len(this_hour)
    starts = set()
    for hour in range(HOUR, HOUR + 24):
        monkeypatch.setattr(ids, "_hour", lambda hour=hour: hour)
        starts.add(new_public_id()[:SHARED_LENGTH])
    assert len(starts) == 24


def test_the_shared_start_does_not_tell_the_hour_without_the_secret(monkeypatch):
    monkeypatch.setattr(ids, "_hour", lambda: HOUR)
    with override_settings(SECRET_KEY=SECRET):
        first = new_public_id()[:SHARED_LENGTH]
        monkeypatch.setattr(ids, "_hour", lambda: HOUR + 1)
        next_hour = new_public_id()[:SHARED_LENGTH]
    monkeypatch.setattr(ids, "_hour", lambda: HOUR)
    with override_settings(SECRET_KEY="another installation's secret"):
        elsewhere = new_public_id()[:SHARED_LENGTH]
    assert elsewhere != first and next_hour != first


def test_each_id_takes_its_own_60_random_bits(monkeypatch):
    # Random bytes 0, 1, 2, ...: each id's last 12 characters are its own slice of their base32 text, so no
    # two ids share a random bit.
    monkeypatch.setattr(ids.secrets, "token_bytes", lambda n: bytes(range(n)))
    made = new_public_ids(3)
    text = ids.base64.b32encode(bytes(range(30))).decode().lower()
    assert [pid[SHARED_LENGTH:] for pid in made] == [text[0:12], text[12:24], text[24:36]]


def test_secrets_are_all_random_and_share_no_start():
    tokens = [new_secret() for _ in range(200)]
    assert all(len(token) == 16 and set(token) <= ALPHABET for token in tokens)
    assert len(set(tokens)) == 200 and len({token[:SHARED_LENGTH] for token in tokens}) > 190


@pytest.mark.django_db
def test_records_made_one_after_another_get_ids_of_the_hour(monkeypatch):
    monkeypatch.setattr(ids, "_hour", lambda: HOUR)
    start = new_public_id()[:SHARED_LENGTH]
    accounts = AccountFactory.create_batch(3)
    assert [account.public_id[:SHARED_LENGTH] for account in accounts] == [start] * 3
    assert len({account.public_id for account in accounts}) == 3
