"""Keyset paging: every row exactly once, forwards and backwards, and no trust in a client's cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.core.pagination import MAX_LIMIT, counts, keyset_page, parse_limit, parse_ordering
from rapport.directory.filters import ACCOUNT_ORDERINGS
from rapport.directory.models import Account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make_accounts(owner, names: list[str]) -> list[Account]:
    rows = [Account(name=name, owner=owner) for name in names]
    for row in rows:
        row.derive()
    return Account.objects.bulk_create(rows)


def walk_forwards(qs, ordering: str, limit: int) -> list[list[int]]:
    order = parse_ordering(ordering, ACCOUNT_ORDERINGS, "name")
    pages, cursor = [], None
    while True:
        page = keyset_page(qs, ordering=order, cursor=cursor, limit=limit)
        pages.append([row.pk for row in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def walk_backwards_from_last(qs, ordering: str, limit: int) -> list[list[int]]:
    """Go to the last page, then follow 'previous' links to the first."""
    order = parse_ordering(ordering, ACCOUNT_ORDERINGS, "name")
    cursor, page = None, None
    while True:
        page = keyset_page(qs, ordering=order, cursor=cursor, limit=limit)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    pages = [[row.pk for row in page.items]]
    while page.previous_cursor:
        page = keyset_page(qs, ordering=order, cursor=page.previous_cursor, limit=limit)
        pages.insert(0, [row.pk for row in page.items])
    return pages


def expected_order(qs, field: str, descending: bool) -> list[int]:
    prefix = "-" if descending else ""
    return list(qs.order_by(f"{prefix}{field}", f"{prefix}pk").values_list("pk", flat=True))


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.mark.parametrize("ordering", ["name", "-name"])
def test_pages_cover_every_row_once_with_ties(owner, ordering):
    make_accounts(owner, ["Acme"] * 7 + ["Beta"] * 5 + ["Zeta", "alpha", "Émile"])
    qs = Account.objects.all()
    pages = walk_forwards(qs, ordering, limit=4)
    flat = [pk for page in pages for pk in page]
    assert flat == expected_order(qs, "name_key", ordering.startswith("-"))
    assert all(len(page) == 4 for page in pages[:-1])


@pytest.mark.parametrize("ordering", ["created_at", "-created_at"])
def test_ties_on_a_timestamp_are_broken_by_id(owner, ordering):
    make_accounts(owner, [f"Row {i}" for i in range(9)])
    moment = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    Account.objects.update(created_at=moment)
    qs = Account.objects.all()
    flat = [pk for page in walk_forwards(qs, ordering, limit=2) for pk in page]
    assert flat == expected_order(qs, "created_at", ordering.startswith("-"))


@pytest.mark.parametrize("ordering", ["name", "-updated_at"])
def test_previous_links_walk_back_to_the_first_page(owner, ordering):
    make_accounts(owner, ["Same"] * 6 + [f"N{i}" for i in range(7)])
    qs = Account.objects.all()
    assert walk_backwards_from_last(qs, ordering, limit=3) == walk_forwards(qs, ordering, limit=3)


def test_first_page_has_no_previous_and_last_has_no_next(owner):
    make_accounts(owner, ["A", "B", "C"])
    order = parse_ordering("name", ACCOUNT_ORDERINGS, "name")
    first = keyset_page(Account.objects.all(), ordering=order, cursor=None, limit=2)
    assert first.previous_cursor is None and first.next_cursor
    last = keyset_page(Account.objects.all(), ordering=order, cursor=first.next_cursor, limit=2)
    assert last.next_cursor is None and last.previous_cursor
    assert [a.name for a in last.items] == ["C"]


def test_empty_list_has_no_links(owner):
    page = keyset_page(Account.objects.all(), ordering=parse_ordering("name", ACCOUNT_ORDERINGS, "name"),
                       cursor=None, limit=10)
    assert page.items == [] and page.next_cursor is None and page.previous_cursor is None


# --- Bad cursors, orderings and limits ------------------------------------------------


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJvIjoibmFtZSJ9:abc:def", "x" * 500])
def test_malformed_cursor_is_a_validation_error(owner, cursor):
    make_accounts(owner, ["A"])
    order = parse_ordering("name", ACCOUNT_ORDERINGS, "name")
    if not cursor:
        assert keyset_page(Account.objects.all(), ordering=order, cursor=cursor, limit=5).items
        return
    with pytest.raises(ValidationError) as info:
        keyset_page(Account.objects.all(), ordering=order, cursor=cursor, limit=5)
    assert "cursor" in info.value.message_dict


def test_tampered_cursor_is_refused(owner):
    make_accounts(owner, ["A", "B", "C"])
    order = parse_ordering("name", ACCOUNT_ORDERINGS, "name")
    cursor = keyset_page(Account.objects.all(), ordering=order, cursor=None, limit=1).next_cursor
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    with pytest.raises(ValidationError) as info:
        keyset_page(Account.objects.all(), ordering=order, cursor=flipped, limit=1)
    assert "cursor" in info.value.message_dict


def test_cursor_of_another_ordering_is_refused(owner):
    make_accounts(owner, ["A", "B"])
    by_name = parse_ordering("name", ACCOUNT_ORDERINGS, "name")
    cursor = keyset_page(Account.objects.all(), ordering=by_name, cursor=None, limit=1).next_cursor
    with pytest.raises(ValidationError) as info:
        keyset_page(Account.objects.all(), ordering=parse_ordering("-name", ACCOUNT_ORDERINGS, "name"),
                    cursor=cursor, limit=1)
    assert "cursor" in info.value.message_dict


@pytest.mark.parametrize("raw", ["password", "owner__password", "--name", "name,id", "-"])
def test_unknown_ordering_is_refused(raw):
    with pytest.raises(ValidationError) as info:
        parse_ordering(raw, ACCOUNT_ORDERINGS, "name")
    assert "ordering" in info.value.message_dict


def test_limit_is_capped_not_refused():
    assert parse_limit("1000") == MAX_LIMIT == 200
    assert parse_limit(None) == 50
    assert parse_limit("7") == 7


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "1.5"])
def test_bad_limit_is_a_validation_error(raw):
    with pytest.raises(ValidationError) as info:
        parse_limit(raw)
    assert "limit" in info.value.message_dict


def test_a_capped_page_holds_200_rows(owner):
    make_accounts(owner, [f"Row {i:03d}" for i in range(205)])
    order = parse_ordering("name", ACCOUNT_ORDERINGS, "name")
    page = keyset_page(Account.objects.all(), ordering=order, cursor=None, limit=parse_limit("5000"))
    assert len(page.items) == 200 and page.next_cursor


# --- Property: the pages partition the set ----------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.sampled_from(["a", "A", "b", "é", "ab", "Zed", "z"]), min_size=0, max_size=18),
    limit=st.integers(min_value=1, max_value=6),
    ordering=st.sampled_from(["name", "-name", "created_at", "-created_at"]),
)
def test_pages_partition_the_set(owner, names, limit, ordering):
    with transaction.atomic():
        make_accounts(owner, names)
        qs = Account.objects.filter(owner=owner)
        field = ACCOUNT_ORDERINGS[ordering.lstrip("-")]
        forwards = walk_forwards(qs, ordering, limit)
        flat = [pk for page in forwards for pk in page]
        assert flat == expected_order(qs, field, ordering.startswith("-"))
        assert len(flat) == len(set(flat)) == len(names)
        if names:
            assert walk_backwards_from_last(qs, ordering, limit) == forwards
        transaction.set_rollback(True)


def test_counts_answers_each_count_in_one_query(django_assert_num_queries):
    """The top bar's badges: several counts, one round trip; a queryset that can match nothing counts 0."""
    owner = UserFactory()
    make_accounts(owner, ["Alpha", "Beta", "Gamma"])
    mine = Account.objects.filter(owner=owner)
    with django_assert_num_queries(1):
        found = counts([mine, mine.filter(name="Beta"), mine.filter(name="Nobody"), Account.objects.none()])
    assert found == [3, 1, 0, 0]
    with django_assert_num_queries(0):
        assert counts([Account.objects.none()]) == [0]
        assert counts([]) == []
