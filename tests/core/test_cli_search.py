"""`rapport search-reindex`: rebuilds global search from the records, and names a wrong type."""

from __future__ import annotations

import pytest

from rapport.cli import main
from rapport.search.models import SearchEntry
from rapport.search.selectors import search
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_search_reindex_rebuilds_an_emptied_index(personas, capsys):
    ContactFactory(first_name="Olle", last_name="Quarnström", owner=personas.owner)
    SearchEntry.objects.all().delete()  # as after a restore that brought the records but not the index
    assert search(user=personas.owner, q="quarnström").count == 0
    assert main(["search-reindex", "--type", "contact", "--quiet"]) == 0
    assert "contact 1" in capsys.readouterr().out
    assert search(user=personas.owner, q="quarnström").count == 1


def test_search_reindex_names_an_unknown_type(capsys):
    assert main(["search-reindex", "--type", "widget"]) == 2
    assert "Unknown record type widget" in capsys.readouterr().err
