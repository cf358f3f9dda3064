"""Files that are not what they claim, or cannot be read: a clear message naming the problem, nothing stored."""

from __future__ import annotations

import codecs

import pytest
from django.core.exceptions import ValidationError

from rapport.directory.models import Account, Contact
from rapport.imports import services
from rapport.imports.models import ImportFile, ImportJob
from rapport.imports.readers import open_table
from tests.imports import files
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db


def refused(user, data: bytes, name: str, record_type: str = "contact") -> str:
    with pytest.raises(ValidationError) as caught:
        services.import_upload(actor=user, file_name=name, data=data, record_type=record_type)
    assert not ImportJob.objects.exists() and not ImportFile.objects.exists()
    return " ".join(caught.value.message_dict["file" if "file" in caught.value.message_dict else "record_type"])


def test_a_png_renamed_csv_is_refused_saying_what_it_is(personas):
    message = refused(personas.owner, files.PNG, "contacts.csv")
    assert "named .csv but it is a PNG image" in message


def test_a_csv_named_xlsx_is_refused(personas):
    message = refused(personas.owner, b"Name,Email\nPat,pat@example.com\n", "contacts.xlsx")
    assert "named .xlsx but it is CSV text" in message


def test_an_old_xls_or_an_unknown_ending_is_refused(personas):
    assert "Save the sheet as XLSX" in refused(personas.owner, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
                                                 "old.xls")
    assert "not .pdf" in refused(personas.owner, b"Name\nPat\n", "list.pdf")


def test_an_empty_file_is_refused(personas):
    assert refused(personas.owner, b"", "empty.csv") == "The file is empty."
    assert refused(personas.owner, b"\xef\xbb\xbf\r\n  \r\n", "blank.csv") == "The file is empty."


def test_a_file_over_the_limit_is_refused_naming_the_limit(personas, settings):
    settings.RAPPORT_IMPORT_MAX_BYTES = 1024 * 1024
    message = refused(personas.owner, files.people_csv(30_000).encode(), "big.csv")
    assert "at most 1 MB (RAPPORT_IMPORT_MAX_BYTES)" in message


def test_broken_utf8_is_refused_naming_the_line(personas):
    data = "Name,City\nZoë,Köln\nPat,Oslo\n".encode() + b"Bad,\xe9\xff\n"
    message = refused(personas.owner, data, "people.csv")
    assert "not valid UTF-8" in message and "line 4" in message


def test_a_windows_1252_file_is_read_as_such():
    table = open_table("Name;City\nZoë Müller;Köln\nRenée;Besançon\n".encode("cp1252"), "people.csv")
    assert [row.cells for row in table.rows()] == [["Zoë Müller", "Köln"], ["Renée", "Besançon"]]


def test_utf16_with_a_byte_order_mark_and_tabs_is_read():
    table = open_table(codecs.BOM_UTF16_LE + "Name\tEmail\nZoë\tzoe@example.com\n".encode("utf-16-le"), "u.txt")
    assert table.headers == ["Name", "Email"]
    assert [row.cells for row in table.rows()] == [["Zoë", "zoe@example.com"]]


@pytest.mark.parametrize(("text", "delimiter"), [("a;b;c\n1;2;3\n", ";"), ("a\tb\tc\n1\t2\t3\n", "\t"),
                                                 ("a|b\n1|2\n", "|"), ('a,"b;c"\n1,"2;3"\n', ",")])
def test_the_delimiter_is_sniffed(text, delimiter):
    table = open_table(text.encode(), "x.csv")
    assert len(table.headers) == len(text.split("\n")[0].split(delimiter)) or delimiter == ","
    assert all(len(row.cells) == len(table.headers) for row in table.rows())


def test_rows_with_more_or_fewer_cells_are_bad_rows_naming_the_row(personas):
    text = "First name,Last name,Email\nAda,Lovelace,ada@example.com\nAlan,Turing\nGrace,Hopper,g@example.com,x\n"
    job = run_import(personas.owner, text)
    problems = list(job.problems.values_list("row", "message"))
    assert job.status == "refused" and not Contact.objects.exists()
    assert problems[0][0] == 3 and "only 2 cells but the header has 3" in problems[0][1]
    assert problems[1][0] == 4 and "4 cells but the header has 3" in problems[1][1]


def test_trailing_empty_cells_are_not_a_problem(personas):
    job = run_import(personas.owner, "First name,Last name\nAda,Lovelace,,\n")
    assert job.status == "done" and job.created_count == 1


def test_a_zip_bomb_posing_as_a_workbook_is_refused_before_it_is_unpacked(personas, settings):
    settings.RAPPORT_IMPORT_MAX_UNPACKED_BYTES = 5 * 1024 * 1024
    message = refused(personas.owner, files.zip_bomb(20 * 1024 * 1024), "bomb.xlsx")
    assert "unpacks to 20 MB, more than the 5 MB" in message


def test_a_zip_that_is_not_a_workbook_is_refused(personas):
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "a zip archive, not an Excel workbook" in refused(personas.owner, out.getvalue(), "data.xlsx")


def test_formulas_give_their_saved_values(personas):
    data = files.with_cached_values(files.workbook([["Name", "Phone"], ["Acme", "=1+2"]]), {"B2": "3"})
    job = run_import(personas.owner, data, name="accounts.xlsx", record_type="account")
    assert job.status == "done", list(job.problems.values_list("message", flat=True))
    assert Account.objects.get().phone == "3"


def test_a_formula_without_a_saved_value_is_refused_naming_the_row(personas):
    data = files.workbook([["Name", "Phone"], ["Acme", "12"], ["Globex", "=1+2"]])
    job = run_import(personas.owner, data, name="accounts.xlsx", record_type="account")
    problem = job.problems.get()
    assert job.status == "refused" and not Account.objects.exists()
    assert (problem.row, problem.column) == (3, "Phone") and "formula =1+2 without a saved value" in problem.message


def test_a_vcard_without_a_name_is_a_bad_card(personas):
    job = run_import(personas.owner, files.VCARD3 + files.VCARD_NO_NAME, name="cards.vcf")
    problem = job.problems.get()
    assert job.status == "refused" and not Contact.objects.exists()
    assert (problem.row, problem.column) == (2, "FN") and "no name" in problem.message


def test_a_vcard_file_is_for_contacts_only(personas):
    assert "import it as contacts" in refused(personas.owner, files.VCARD3.encode(), "c.vcf", "account")


def test_a_header_without_rows_imports_nothing_and_says_so(personas):
    job = run_import(personas.owner, "First name,Last name\n")
    assert job.status == "done" and job.processed_rows == 0 and job.created_count == 0


def test_an_unclosed_quote_is_a_clear_failure(personas):
    job = run_import(personas.owner, 'First name,Last name\nAda,"Lovelace\n' + "x" * 200_000 + "\n")
    assert job.status == "failed" and "Row 2 cannot be read" in job.message
    assert not Contact.objects.exists()
