"""Guessing each column's field from its header, and reading dates and amounts as people write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from rapport.imports import fields as f
from rapport.imports.readers import open_table
from tests.imports import files


def guessed(header: str, record_type: str = "contact") -> dict[str, str]:
    headers = open_table((header + "\n").encode(), "x.csv").headers
    return {h: key for h, key in zip(headers, f.guess_mapping(f.SPECS[record_type], headers), strict=True) if key}


def test_outlook_contacts_export():
    assert guessed(files.OUTLOOK_HEADER) == {
        "First Name": "first_name", "Last Name": "last_name", "Company": "account", "Job Title": "title",
        "Business Street": "street", "Business City": "city", "Business State": "region",
        "Business Postal Code": "postal_code", "Business Country/Region": "country", "Business Phone": "phone",
        "Mobile Phone": "mobile", "E-mail Address": "email", "E-mail 2 Address": "secondary_email",
        "Notes": "remarks"}  # "Title" holds Mr. or Ms.: not the job title


def test_google_contacts_old_export():
    mapping = guessed(files.GOOGLE_OLD_HEADER)
    assert mapping["Name"] == "full_name" and mapping["Given Name"] == "first_name"
    assert mapping["Family Name"] == "last_name" and mapping["E-mail 1 - Value"] == "email"
    assert mapping["Phone 1 - Value"] == "phone" and mapping["Organization 1 - Name"] == "account"
    assert mapping["Organization 1 - Title"] == "title" and mapping["Address 1 - Street"] == "street"
    assert mapping["Address 1 - Postal Code"] == "postal_code" and mapping["Notes"] == "remarks"
    assert "E-mail 1 - Type" not in mapping and "Address 1 - Formatted" not in mapping


def test_google_contacts_new_export():
    mapping = guessed(files.GOOGLE_NEW_HEADER)
    assert mapping["First Name"] == "first_name" and mapping["Last Name"] == "last_name"
    assert mapping["Organization Name"] == "account" and mapping["Organization Title"] == "title"
    assert mapping["E-mail 1 - Value"] == "email" and mapping["Phone 1 - Value"] == "phone"
    assert mapping["Address 1 - City"] == "city"


def test_plain_and_accented_headers_and_rapports_own_labels():
    assert guessed("Nom,E-Mail,Téléphone,Job title,Other email") == {
        "E-Mail": "email", "Téléphone": "phone", "Job title": "title", "Other email": "secondary_email"}
    assert guessed("Name,Website,Relationship stage", "account") == {
        "Name": "name", "Website": "website", "Relationship stage": "stage"}


def test_a_mapping_is_checked():
    spec = f.SPECS["contact"]
    with pytest.raises(ValidationError, match="Two columns go to"):
        f.check_mapping(spec, ["email", "email"], 2)
    with pytest.raises(ValidationError, match="not a field of contact imports"):
        f.check_mapping(spec, ["shoe_size"], 1)
    with pytest.raises(ValidationError, match="last name"):
        f.check_mapping(spec, ["email"], 1)
    with pytest.raises(ValidationError, match="3 columns"):
        f.check_mapping(spec, ["last_name"], 3)
    assert f.check_mapping(spec, ["full_name", ""], 2) == ["full_name", ""]


@pytest.mark.parametrize(("raw", "order", "expected"), [
    ("2026-04-03", None, dt.date(2026, 4, 3)),
    ("2026/4/3", None, dt.date(2026, 4, 3)),
    ("3.4.2026", None, dt.date(2026, 4, 3)),
    ("03.04.26", None, dt.date(2026, 4, 3)),
    ("13/04/2026", None, dt.date(2026, 4, 13)),
    ("04/13/2026", None, dt.date(2026, 4, 13)),
    ("03/04/2026", f.DAY_FIRST, dt.date(2026, 4, 3)),
    ("03/04/2026", f.MONTH_FIRST, dt.date(2026, 3, 4)),
    ("05/05/2026", None, dt.date(2026, 5, 5)),
    ("3 April 2026", None, dt.date(2026, 4, 3)),
    ("Apr 3, 2026", None, dt.date(2026, 4, 3)),
    ("2026-04-03T10:00:00", None, dt.date(2026, 4, 3)),
])
def test_dates_in_the_formats_people_write(raw, order, expected):
    assert f.date_value(raw, order) == expected


def test_an_ambiguous_date_is_refused_with_both_readings():
    with pytest.raises(f.CellError) as caught:
        f.date_value("03/04/2026", None)
    assert "could be 3 April 2026 or 4 March 2026" in str(caught.value) and "YYYY-MM-DD" in str(caught.value)
    for raw in ("31/02/2026", "next week", "2026-13-01"):
        with pytest.raises(f.CellError):
            f.date_value(raw, None)


@pytest.mark.parametrize(("raw", "expected"), [("1234.5", "1234.50"), ("1,234.50", "1234.50"), ("1.234,50", "1234.50"),
                                               ("1 234,50 €", "1234.50"), ("1,5", "1.50"), ("$ 99", "99.00"),
                                               ("1,234", "1234.00"), ("EUR 10", "10.00")])
def test_amounts(raw, expected):
    assert f.decimal_value(raw) == Decimal(expected)


def test_names_are_split():
    assert f.split_name("Jane Q. Doe") == ("Jane Q.", "Doe")
    assert f.split_name("Doe, Jane") == ("Jane", "Doe")
    assert f.split_name("Cher") == ("", "Cher")
