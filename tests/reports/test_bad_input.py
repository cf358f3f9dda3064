"""Bad input to reports: an unknown kind, filters that do not parse, an end before the start, an unknown
owner or team, an unknown export format — a clear message naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"from": "yesterday-ish"}, "from", "Enter a date as YYYY-MM-DD"),
    ({"to": "2026-13-45"}, "to", "Enter a date as YYYY-MM-DD"),
    ({"from": "2026-05-01", "to": "2026-04-01"}, "to", "The end comes before the start."),
    ({"from": "1900-01-01", "to": "2026-01-01"}, "to", "A report covers at most 10 years."),
    ({"owner": "somebodyunknown"}, "owner", "No such user."),
    ({"team": "noteamnoteam"}, "team", "No such team."),
    ({"currency": "EURO"}, "currency", "three-letter currency code"),
    ({"period": "someday"}, "period", "Use one of"),
    ({"period": "this-year", "from": "2026-01-01"}, "period", "Choose a period or dates, not both."),
    ({"stage": "nostage"}, "stage", "No such stage."),
    ({"colour": "blue"}, "colour", "This report has no such filter"),
])
def test_bad_filters_answer_400_naming_the_field(personas, api_for, params, field, message):
    response = api_for(personas.owner).get("reports/kinds/pipeline-by-month", **params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"] and message in " ".join(body["errors"][field]), body
    page = client_for(personas.owner).get("/reports/pipeline-by-month/", params)
    assert page.status_code == 400
    assert message.replace("'", "&#x27;") in page.content.decode()


def test_an_unknown_report_kind_is_a_404_with_a_clear_message(personas, api_for):
    response = api_for(personas.owner).get("reports/kinds/sales-forecast-9000")
    assert response.status_code == 404
    assert "No report kind sales-forecast-9000" in response.json()["detail"]
    assert client_for(personas.owner).get("/reports/sales-forecast-9000/").status_code == 404
    assert client_for(personas.owner).get("/reports/sales-forecast-9000/export/").status_code == 404


def test_an_unknown_export_format_is_refused(personas, api_for):
    assert api_for(personas.owner).get("reports/kinds/support", format="pdf").status_code == 400
    response = client_for(personas.owner).get("/reports/support/export/", {"format": "pdf"})
    assert response.status_code == 400 and b"csv or xlsx" in response.content
    bad = client_for(personas.owner).get("/reports/support/export/", {"format": "csv", "from": "soon"})
    assert bad.status_code == 400 and b"YYYY-MM-DD" in bad.content


def test_a_filter_of_another_report_is_named(personas, api_for):
    response = api_for(personas.owner).get("reports/kinds/accounts-by-stage", currency="EUR")
    assert response.status_code == 400
    assert "currency" in response.json()["errors"]


def test_stale_and_missing_versions_of_a_saved_report(personas, api_for):
    api = api_for(personas.owner)
    report_id = api.post("reports", {"name": "Mine", "kind": "support"}).json()["id"]
    assert api.patch(f"reports/{report_id}", {"name": "No version"}).status_code == 422
    assert api.patch(f"reports/{report_id}", {"name": "Later", "version": 7}).status_code == 409
    assert api.patch(f"reports/{report_id}", {"name": None, "version": 1}).status_code == 422
    assert api.get("reports/zzzzzzzzzzzzzzzz").status_code == 404
    assert api.get("reports", colour="blue").status_code == 400


def test_the_kinds_list_refuses_a_cursor_and_an_ordering_it_cannot_have(personas, api_for):
    client = api_for(personas.owner)
    assert client.get("reports/kinds").status_code == 200
    response = client.get("reports/kinds", cursor="not-a-cursor")
    assert response.status_code == 400 and "cursor" in response.json()["errors"]
    response = client.get("reports/kinds", ordering="name")
    assert response.status_code == 400 and "ordering" in response.json()["errors"]
