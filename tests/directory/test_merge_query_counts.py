"""Pinned query counts of merging: the merge page costs the same whatever the number of rows linked to the
two records, and the merge itself grows with the kinds of relation there are, never with their rows.

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.directory import merge, services
from rapport.directory.models import Attribute, Contact
from tests.conftest import ApiClient, client_for
from tests.factories import ActivityFactory, DistributionListFactory, NoteFactory

pytestmark = pytest.mark.django_db


def contact(owner, name: str) -> Contact:
    return services.contact_create(actor=owner, confirm_duplicate=True, data={
        "last_name": name, "email": "same@example.com", "remarks": f"from={name.lower()}"},
        addresses=[{"city": name}])


def link(owner, kept: Contact, gone: Contact, n: int) -> None:
    """n activities, notes and list memberships each for the one merged in; as many the two share."""
    for _i in range(n):
        ActivityFactory(owner=owner, regarding=[gone], attendees=[gone])
        ActivityFactory(owner=owner, regarding=[kept, gone], attendees=[kept, gone])  # clashes to drop
        NoteFactory(owner=owner, about=gone)
        DistributionListFactory(owner=owner, members=[gone])
        DistributionListFactory(owner=owner, members=[kept, gone])


def relation_kinds() -> int:
    return len(merge.relations_of(Contact))


def counted_kinds() -> int:
    """The relations the merge page counts: not the attributes (read from the remarks), nor the search index."""
    return sum(1 for relation in merge.relations_of(Contact) if relation.kind and relation.model is not Attribute)


# The merge page: session + user (2), rights (1), badges (1), the two records (2), their addresses (2),
# and one count per kind of relation the record merged in could have.
PAGE_FIXED = 8


@pytest.mark.parametrize("n", [1, 8])
def test_merge_page_query_count_does_not_grow_with_linked_rows(personas, n):
    owner = personas.owner
    kept, gone = contact(owner, "Kept"), contact(owner, "Gone")
    link(owner, kept, gone, n)
    client = client_for(owner)
    url = reverse("contact_merge", args=[kept.public_id])
    client.get(url, {"other": gone.public_id})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"other": gone.public_id})
    assert response.status_code == 200
    assert len(queries) == PAGE_FIXED + counted_kinds()


def merge_queries(personas, n: int) -> int:
    owner = personas.owner
    kept, gone = contact(owner, f"Kept{n}"), contact(owner, f"Gone{n}")
    link(owner, kept, gone, n)
    api = ApiClient(owner)
    api.get("me")  # the token's last-used stamp
    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"contacts/{kept.public_id}/merge", {
            "other": gone.public_id, "version": kept.version, "other_version": gone.version,
            "fields": {"remarks": "both"}})
    assert response.status_code == 200, response.json()
    assert Contact.objects.get(pk=gone.pk).deleted_at is not None
    return len(queries)


def test_merge_query_count_grows_with_relation_kinds_not_rows(personas):
    small = merge_queries(personas, 1)
    large = merge_queries(personas, 8)
    assert small == large
    # At most a handful of queries per kind of relation (move; find and drop the clashing rows; note what
    # moved for the search index), and a fixed number for the rest.
    assert small <= 40 + 4 * relation_kinds()
