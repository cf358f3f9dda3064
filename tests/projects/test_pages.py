"""The project pages a user clicks through: starting a project from a won deal, the deal's Projects panel, and
a timeline that shows names as text, never as markup."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rapport.projects import services
from rapport.projects.models import Project
from tests.conftest import client_for
from tests.factories import AccountFactory, OpportunityFactory
from tests.projects.factories import make_milestone, make_project, make_task

pytestmark = pytest.mark.django_db


def test_a_project_started_from_a_deal_takes_its_account_name_and_budget(personas):
    account = AccountFactory(owner=personas.owner, name="Nordwind", visibility="everyone")
    deal = OpportunityFactory(owner=personas.owner, account=account, name="Scanner rollout",
                              amount=Decimal("9900.00"), currency="USD")
    client = client_for(personas.owner)
    html = client.get("/projects/new/", {"opportunity": deal.public_id}).content.decode()
    assert 'value="Scanner rollout"' in html and 'value="9900.00"' in html
    assert f'<option value="{deal.public_id}" selected>' in html
    assert f'<option value="{account.public_id}" selected>Nordwind</option>' in html
    response = client.post("/projects/new/", {
        "name": "Scanner rollout", "account": account.public_id, "opportunity": deal.public_id,
        "status": "planned", "starts_on": "2030-03-01", "due_on": "2030-04-30",
        "manager": personas.owner.public_id, "members": [personas.teammate.public_id], "budget": "9900.00",
        "currency": "USD", "owner": personas.owner.public_id, "visibility": "everyone", "description": ""})
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.public_id}/"
    assert (project.opportunity, project.budget, project.currency) == (deal, Decimal("9900.00"), "USD")
    assert list(project.memberships.values_list("user_id", flat=True)) == [personas.teammate.pk]
    panel = client.get(f"/projects/about/{deal.ref}/").content.decode()
    assert "Scanner rollout" in panel and "0 %" in panel


def test_the_timeline_escapes_names_and_draws_a_bar_per_milestone_and_task(personas):
    project = make_project(personas.owner, name="<script>alert(1)</script>")
    milestone = make_milestone(project, "Phase <b>one</b>")
    make_task(project, "Task & more", milestone=milestone)
    html = client_for(personas.owner).get(f"/projects/{project.public_id}/").content.decode()
    svg = html[html.index("<svg class=\"timeline\""):html.index("</svg>")]
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Phase &lt;b&gt;one&lt;/b&gt;" in svg and "Task &amp; more" in svg
    assert svg.count('class="bar"') == 3  # the project, the milestone, the task


def test_saving_the_form_keeps_a_deal_the_editor_may_not_see(personas):
    account = AccountFactory(owner=personas.owner, visibility="everyone")
    secret = OpportunityFactory(owner=personas.admin, account=account, visibility="private")
    project = services.project_create(actor=personas.admin, data={
        "name": "Rollout", "account": account, "opportunity": secret, "owner": personas.owner,
        "starts_on": dt.date(2030, 3, 1), "due_on": dt.date(2030, 6, 30)})
    client = client_for(personas.owner)
    html = client.get(f"/projects/{project.public_id}/edit/").content.decode()
    assert secret.name not in html
    response = client.post(f"/projects/{project.public_id}/edit/", {
        "name": "Renamed", "account": account.public_id, "opportunity": "", "status": "active",
        "starts_on": "2030-03-01", "due_on": "2030-06-30", "manager": personas.owner.public_id, "budget": "1",
        "currency": "EUR", "owner": personas.owner.public_id, "visibility": "everyone", "description": "",
        "version": project.version})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.opportunity) == ("Renamed", secret)
