"""The relationship cycle page: visible accounts per relationship stage, and the stage changes per month."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.utils import timezone

from rapport.core.models import Visibility
from rapport.directory import services
from rapport.directory.models import Account, StageChange
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def tiles(page: str) -> dict[str, int]:
    """The count of each stage's tile ("none" for accounts without a stage)."""
    return {stage: int(count) for stage, count in re.findall(
        r'class="stage-tile stage-(\w+)">.*?<span class="stage-count">(\d+)</span>', page, re.S)}


def month_row(page: str, month: dt.date) -> dict[str, int]:
    """The cells of a month's row in the changes table, by column label."""
    label = month.strftime("%B %Y")
    start = page.index(f'<span class="long">{label}</span>')
    row = page[start:page.index("</tr>", start)]
    return {name: int(value) for name, value in re.findall(r'data-label="([^"]+)">(?:<strong>)?(\d+)<', row)}


def months_ago(today: dt.date, months: int) -> dt.date:
    day = today.replace(day=1)
    for _i in range(months):
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return day


def account(owner, name: str, **data) -> Account:
    return services.account_create(actor=owner, data={"name": name, **data}, confirm_duplicate=True)


def change(actor, record: Account, **data) -> Account:
    record = Account.objects.get(pk=record.pk)
    return services.account_update(actor=actor, account=record, data=data, version=record.version)


@pytest.fixture
def cycle(personas):
    """Accounts the owner sees in each stage, and one they may not see."""
    owner = personas.owner
    acme = account(owner, "Acme", stage="growing")
    change(owner, acme, stage="mature")
    account(owner, "Globex", stage="growing")
    initech = account(owner, "Initech")
    change(owner, initech, remarks="Key customer\nstage=declining")  # the stage written in the remarks
    account(owner, "Umbrella", stage="closed")
    account(owner, "Nobody yet")
    hidden = account(personas.outsider, "Secret Co", stage="growing", visibility=Visibility.PRIVATE)
    change(personas.outsider, hidden, stage="declining")
    return {"acme": acme, "initech": initech, "hidden": hidden}


def test_the_page_counts_visible_accounts_per_stage(personas, cycle):
    page = text(client_for(personas.owner).get("/accounts/stages/"))
    assert tiles(page) == {"growing": 1, "mature": 1, "declining": 1, "closed": 1, "none": 1}
    assert "5 accounts you may see in all" in page
    assert "Secret Co" not in page
    # Everyone sees everything: the administrator counts the outsider's private account too.
    assert tiles(text(client_for(personas.admin).get("/accounts/stages/")))["declining"] == 2


def test_each_stage_links_to_the_account_list_filtered_by_it(personas, cycle):
    client = client_for(personas.owner)
    page = text(client.get("/accounts/stages/"))
    for stage in ("growing", "mature", "declining", "closed"):
        assert f'href="/accounts/?stage={stage}"' in page
    listed = text(client.get("/accounts/", {"stage": "declining"}))
    assert "Initech" in listed and "Acme" not in listed


def test_the_account_list_links_to_the_relationship_cycle(personas):
    page = text(client_for(personas.owner).get("/accounts/"))
    assert 'href="/accounts/stages/">Relationship cycle<' in page


def test_the_stage_changes_of_this_month_are_counted_per_stage_entered(personas, cycle):
    today = timezone.localdate()
    row = month_row(text(client_for(personas.owner).get("/accounts/stages/")), today)
    # Acme entered growing then mature, Globex growing, Initech declining (by its remarks), Umbrella closed;
    # the hidden account's two changes are not counted.
    assert row == {"Growing": 2, "Mature": 1, "Declining": 1, "Closed": 1, "No stage": 0, "Changes": 5}


def test_changes_are_shown_per_month_for_twelve_months(personas, cycle):
    today = timezone.localdate()
    owner = personas.owner
    change(owner, cycle["acme"], stage="declining")
    change(owner, cycle["acme"], stage="")  # the stage cleared
    acme_changes = StageChange.objects.filter(account=cycle["acme"]).order_by("id")
    first, _second, third, fourth = acme_changes
    StageChange.objects.filter(pk=first.pk).update(changed_on=months_ago(today, 3))
    StageChange.objects.filter(pk=third.pk).update(changed_on=months_ago(today, 11) + dt.timedelta(days=5))
    StageChange.objects.filter(pk=fourth.pk).update(changed_on=months_ago(today, 12))  # too old to show
    page = text(client_for(owner).get("/accounts/stages/"))
    assert month_row(page, months_ago(today, 3))["Growing"] == 1
    assert month_row(page, months_ago(today, 11)) == {"Growing": 0, "Mature": 0, "Declining": 1, "Closed": 0,
                                                      "No stage": 0, "Changes": 1}
    assert months_ago(today, 12).strftime("%B %Y") not in page
    assert month_row(page, today)["Changes"] == 4
    # Twelve months, the newest first; the chart has a bar for each with changes.
    labels = re.findall(r'<span class="long">([^<]+)</span>', page)
    assert len(labels) == 12 and labels[0] == today.strftime("%B %Y")
    assert '<svg viewBox="0 0 640 230" role="img"' in page
    assert len(re.findall(r'<rect class="seg seg-growing"', page)) == 2  # three months ago, and this month


def test_an_invisible_accounts_changes_are_not_counted(personas, cycle):
    today = timezone.localdate()
    outsider = personas.outsider
    for stage in ("mature", "closed", "growing"):
        change(outsider, cycle["hidden"], stage=stage)
    owner_page = text(client_for(personas.owner).get("/accounts/stages/"))
    assert month_row(owner_page, today)["Changes"] == 5
    outsider_row = month_row(text(client_for(outsider).get("/accounts/stages/")), today)
    assert outsider_row["Changes"] == 5 + 5  # the owner's accounts, shared with everyone, and the hidden one's
    assert outsider_row["Mature"] == 2 and outsider_row["Closed"] == 2


def test_a_deleted_account_is_not_counted(personas, cycle):
    services.account_delete(actor=personas.owner, account=Account.objects.get(pk=cycle["initech"].pk))
    page = text(client_for(personas.owner).get("/accounts/stages/"))
    assert tiles(page)["declining"] == 0
    assert month_row(page, timezone.localdate())["Declining"] == 0


def test_an_account_called_stages_is_still_reachable_by_its_id(personas, cycle):
    acme = cycle["acme"]
    assert client_for(personas.owner).get(f"/accounts/{acme.public_id}/").status_code == 200
    assert "Relationship cycle" in text(client_for(personas.owner).get("/accounts/stages/"))
