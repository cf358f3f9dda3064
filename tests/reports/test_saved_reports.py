"""Saved reports: save a report with its filters under a name from its page, open it, keep changed filters,
rename and share it, delete and undo; and the same through the API, with versions (409 when stale) and
history."""

from __future__ import annotations

import pytest

from rapport.core.models import HistoryEntry, Visibility
from rapport.reports import services
from rapport.reports.models import SavedReport
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_saving_a_report_from_its_page_keeps_its_filters_and_opens_it(personas):
    client = client_for(personas.owner)
    page = client.get("/reports/won-lost/?period=this-year&owner=me")
    assert page.status_code == 200
    assert 'name="params" value="period=this-year&amp;owner=me"' in page.content.decode()
    response = client.post("/reports/saved/new/", {"kind": "won-lost", "params": "period=this-year&owner=me",
                                                    "name": "  My year  ", "visibility": "team"})
    saved = SavedReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/saved/{saved.public_id}/"
    assert (saved.name, saved.kind, saved.filters, saved.visibility, saved.owner) == (
        "My year", "won-lost", {"period": "this-year", "owner": "me"}, "team", personas.owner)
    assert HistoryEntry.objects.filter(object_id=saved.pk, kind="created").exists()
    opened = client.get(f"/reports/saved/{saved.public_id}/").content.decode()
    assert "My year" in opened and '<option value="this-year" selected>' in opened
    assert client.get("/reports/").content.decode().count(saved.public_id) == 1


def test_a_save_with_no_name_or_a_name_too_long_is_refused_naming_the_field(personas):
    client = client_for(personas.owner)
    for name, message in (("   ", "This field cannot be blank."), ("x" * 151, "at most 150 characters")):
        response = client.post("/reports/saved/new/", {"kind": "support", "params": "status=open", "name": name})
        assert response.status_code == 400
        assert message in response.content.decode()
        assert 'id="save-name-error"' in response.content.decode()
    assert not SavedReport.objects.exists()


def test_a_save_with_filters_that_do_not_parse_is_refused(personas):
    response = client_for(personas.owner).post("/reports/saved/new/", {
        "kind": "support", "params": "from=yesterday-ish", "name": "Broken"})
    assert response.status_code == 400
    assert "Enter a date as YYYY-MM-DD" in response.content.decode()
    assert not SavedReport.objects.exists()


def test_changed_filters_can_be_kept_in_the_saved_report_and_a_stale_version_is_refused(personas):
    saved = services.saved_report_create(actor=personas.owner, data={"name": "Support", "kind": "support"})
    client = client_for(personas.owner)
    page = client.get(f"/reports/saved/{saved.public_id}/?status=open&priority=").content.decode()
    assert "These filters differ from the saved ones." in page
    response = client.post(f"/reports/saved/{saved.public_id}/edit/", {"params": "status=open", "version": 1})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.filters == {"status": "open", "period": "any"} and saved.version == 2
    stale = client.post(f"/reports/saved/{saved.public_id}/edit/", {"name": "Renamed", "version": 1})
    assert stale.status_code == 409
    saved.refresh_from_db()
    assert saved.name == "Support"


def test_rename_share_delete_and_undo(personas):
    saved = services.saved_report_create(actor=personas.owner, data={"name": "Mine", "kind": "activities"})
    client = client_for(personas.owner)
    assert client.get(f"/reports/saved/{saved.public_id}/edit/").status_code == 200
    response = client.post(f"/reports/saved/{saved.public_id}/edit/", {"name": "Ours", "visibility": "team",
                                                                       "version": 1})
    assert response.status_code == 302
    assert client_for(personas.teammate).get(f"/reports/saved/{saved.public_id}/").status_code == 200
    # The teammate may open it but not change it.
    assert client_for(personas.teammate).post(f"/reports/saved/{saved.public_id}/edit/",
                                              {"name": "Theirs", "version": 2}).status_code == 403
    response = client.post(f"/reports/saved/{saved.public_id}/delete/", {"version": 2})
    assert response.status_code == 302 and response["Location"] == "/reports/"
    assert client.get(f"/reports/saved/{saved.public_id}/").status_code == 404
    assert "is in the trash" in client.get("/reports/").content.decode()
    assert client.post(f"/reports/saved/{saved.public_id}/restore/").status_code == 302
    assert client.get(f"/reports/saved/{saved.public_id}/").status_code == 200


# --- API --------------------------------------------------------------------------------------------


def test_api_saved_report_crud_with_versions(personas, api_for):
    api = api_for(personas.owner)
    created = api.post("reports", {"name": "Pipeline EUR", "kind": "pipeline-by-stage",
                                   "filters": {"currency": "eur", "owner": "me"}})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["kind"], body["filters"], body["visibility"], body["version"]) == (
        "Pipeline EUR", "pipeline-by-stage", {"currency": "EUR", "owner": "me", "period": "any"}, "private", 1)
    report_id = body["id"]
    assert api.get(f"reports/{report_id}").json()["name"] == "Pipeline EUR"
    listed = api.get("reports").json()
    assert [item["id"] for item in listed["items"]] == [report_id] and listed["next"] is None
    assert "pipeline-by-stage" in {kind["key"] for kind in listed["kinds"]}

    changed = api.patch(f"reports/{report_id}", {"version": 1, "name": "Pipeline in euros", "visibility": "team"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(f"reports/{report_id}", {"version": 1, "name": "Lost update"})
    assert stale.status_code == 409 and stale.json()["errors"]["version"]
    assert api.delete(f"reports/{report_id}?version=1").status_code == 409
    assert api.delete(f"reports/{report_id}?version=2").status_code == 204
    assert api.get(f"reports/{report_id}").status_code == 404
    restored = api.post(f"reports/{report_id}/restore")
    assert restored.status_code == 200 and restored.json()["name"] == "Pipeline in euros"
    kinds = [entry.kind for entry in HistoryEntry.objects.filter(object_id=SavedReport.objects.get().pk)
             .order_by("id")]
    assert kinds == ["created", "updated", "deleted", "restored"]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "", "kind": "support"}, "name"),
    ({"name": "x" * 151, "kind": "support"}, "name"),
    ({"name": "   ", "kind": "support"}, "name"),
    ({"name": "Nope", "kind": "sales-forecast-9000"}, "kind"),
    ({"name": "Bad date", "kind": "support", "filters": {"from": "yesterday-ish"}}, "filters.from"),
    ({"name": "Backwards", "kind": "support", "filters": {"from": "2026-05-01", "to": "2026-04-01"}}, "filters.to"),
    ({"name": "Who", "kind": "support", "filters": {"owner": "nobodynobodyzzz"}}, "filters.owner"),
    ({"name": "Odd", "kind": "support", "filters": {"currency": "EUR"}}, "filters.currency"),
    ({"name": "Unknown", "kind": "support", "extra": 1}, "extra"),
])
def test_api_refuses_a_bad_saved_report_naming_the_field(personas, api_for, body, field):
    response = api_for(personas.owner).post("reports", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert not SavedReport.objects.exists()


def test_api_a_read_only_user_may_run_reports_but_not_save_them(personas, api_for):
    api = api_for(personas.viewer)
    assert api.get("reports/kinds/support").status_code == 200
    assert api.post("reports", {"name": "Mine", "kind": "support"}).status_code == 403


def test_api_owner_outside_the_callers_scope_is_refused(personas, api_for):
    response = api_for(personas.owner).post("reports", {"name": "Gift", "kind": "support",
                                                        "owner": personas.outsider.public_id})
    assert response.status_code == 403
    assert not SavedReport.objects.exists()
    manager = api_for(personas.manager).post("reports", {"name": "For owner", "kind": "support",
                                                         "owner": personas.owner.public_id,
                                                         "visibility": Visibility.TEAM})
    assert manager.status_code == 201 and manager.json()["owner"]["id"] == personas.owner.public_id
