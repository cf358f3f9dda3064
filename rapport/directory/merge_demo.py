"""Demo data for duplicates and merge: a few records the demo company entered twice.

`demo_duplicates(users)` runs after the demo's accounts and contacts exist (rapport.demo.load_demo);
it adds, through the services as a person would:
- a contact typed again with her address in capitals and a phone number the first one lacks;
- a contact whose name was misspelt (one letter) at the same account;
- a contact whose work address was entered as the other email of a second record;
- an account entered again from its website with "www." and another scheme, and a second copy under
  the same name.
"""

from __future__ import annotations

from typing import Any

from rapport.directory import services
from rapport.directory.models import Account, Contact


def demo_duplicates(users: dict[str, Any]) -> dict[str, int]:
    """Add the demo's duplicates; returns {"duplicates": how many records were added}."""
    admin = users["admin"]
    contacts = list(Contact.objects.filter(deleted_at__isnull=True, visibility="everyone")
                    .exclude(email="").exclude(account=None).select_related("account").order_by("id")[:3])
    accounts = list(Account.objects.filter(deleted_at__isnull=True, visibility="everyone")
                    .exclude(website="").order_by("id")[:2])
    added = 0
    if len(contacts) == 3:
        first, second, third = contacts
        services.contact_create(actor=admin, confirm_duplicate=True, data={
            "first_name": first.first_name, "last_name": first.last_name, "account": first.account,
            "email": first.email.upper(), "mobile": "+49 170 5550101", "title": "",
            "remarks": "Entered again at the trade fair.", "owner": users["sales2"], "visibility": "everyone"})
        misspelt = second.last_name[:-1] + ("a" if second.last_name[-1:] != "a" else "e")
        services.contact_create(actor=admin, confirm_duplicate=True, data={
            "first_name": second.first_name, "last_name": misspelt, "account": second.account,
            "title": second.title, "phone": "+49 40 5550199", "owner": second.owner, "visibility": "everyone"})
        services.contact_create(actor=admin, confirm_duplicate=True, data={
            "first_name": third.first_name[:1] + ".", "last_name": third.last_name,
            "email": f"{third.last_name.lower()}.private@example.net", "secondary_email": third.email,
            "owner": users["sales1"], "visibility": "everyone"})
        added += 3
    if len(accounts) == 2:
        first, second = accounts
        services.account_create(actor=admin, confirm_duplicate=True, data={
            "name": f"{first.name} (web form)", "website": first.website.replace("https://www.", "http://"),
            "industry": first.industry, "owner": users["sales1"], "visibility": "everyone"})
        services.account_create(actor=admin, confirm_duplicate=True, data={
            "name": second.name.upper(), "phone": "+49 30 5550123", "owner": second.owner,
            "visibility": "everyone", "remarks": "Imported from the old address book."})
        added += 2
    return {"duplicates": added}
