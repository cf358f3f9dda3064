"""Helpers shared by the campaign tests: many contacts at once, a list of them, draining the outbox."""

from __future__ import annotations

from typing import Any

from rapport.campaigns.models import DistributionList, DistributionListMember
from rapport.directory.models import Contact
from rapport.mail.services import deliver_due
from tests.factories import DistributionListFactory


def people(owner: Any, count: int, *, domain: str = "example.com", prefix: str = "person",
           **fields: Any) -> list[Contact]:
    """`count` contacts of the owner's, person0000@example.com…, saved in one statement."""
    rows = []
    for n in range(count):
        contact = Contact(owner=owner, created_by=owner, first_name=f"P{n:04d}", last_name=f"{prefix.title()}{n:04d}",
                          email=f"{prefix}{n:04d}@{domain}", **fields)
        contact.derive()
        rows.append(contact)
    return Contact.objects.bulk_create(rows)


def static_list(owner: Any, contacts: list[Contact], **fields: Any) -> DistributionList:
    distribution_list = DistributionListFactory(owner=owner, **fields)
    DistributionListMember.objects.bulk_create(
        [DistributionListMember(distribution_list=distribution_list, contact=c) for c in contacts])
    return distribution_list


def deliver_all() -> int:
    """Run the worker's delivery until the outbox has nothing due; the number sent."""
    sent = 0
    while True:
        batch = deliver_due(limit=500)
        sent += batch
        if batch == 0:
            return sent
