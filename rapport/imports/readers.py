"""Reading an uploaded file as a table: CSV (any delimiter, any encoding), XLSX, vCard.

`open_table(data, file_name)` looks at what the bytes are, not only at the name: a PNG renamed .csv, a CSV
named .xlsx, an empty file, broken UTF-8 or a zip bomb posing as a workbook are refused with a message that
says what the file is and what to do (a ValidationError on "file"). What passes is a `Table`: its headers
and an iterator over its rows, each with its number as the user counts it in their spreadsheet (the header
is row 1; in a vCard file, the card's number) and the problem of a row that cannot be read as a row at all
(more or fewer cells than the header has, a card without a name).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from rapport.core.files import human_size
from rapport.exports.writers import unescape_cell

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_UNPACKED_BYTES = 500 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 50
MAX_COLUMNS = 500
MAX_CELL = 100_000

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 (.xls) workbook or another old Office file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
EXTENSIONS = {"csv": "csv", "txt": "csv", "tsv": "csv", "xlsx": "xlsx", "xlsm": "xlsx", "vcf": "vcard",
              "vcard": "vcard"}


def max_bytes() -> int:
    """RAPPORT_IMPORT_MAX_BYTES: the largest file an import accepts (default 50 MB)."""
    return int(getattr(settings, "RAPPORT_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_unpacked_bytes() -> int:
    """RAPPORT_IMPORT_MAX_UNPACKED_BYTES: the most an XLSX file may unpack to (default ten times the upload
    limit, at least 500 MB)."""
    configured = getattr(settings, "RAPPORT_IMPORT_MAX_UNPACKED_BYTES", None)
    return int(configured) if configured else max(DEFAULT_MAX_UNPACKED_BYTES, 10 * max_bytes())




def file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def too_large(size: int) -> ValidationError:
    """The refusal of a file of `size` bytes, over the limit, naming the limit."""
    return file_error(_("The file is %(size)s; imports take files of at most %(limit)s (RAPPORT_IMPORT_MAX_BYTES). "
                        "Split it into smaller files.") % {"size": human_size(size), "limit": human_size(max_bytes())})


def check_size(size: int) -> None:
    """Refuse a file over the limit, naming the limit."""
    if size > max_bytes():
        raise too_large(size)


@dataclass
class Row:
    """One row of the file: its number as the user counts it, its cells, and why it is not a row (or None)."""

    number: int
    cells: list[Any]
    problem: tuple[str, str] | None = None  # (column, reason)


@dataclass
class Table:
    format: str
    headers: list[str]
    notes: str
    _rows: Callable[[], Iterator[Row]]
    # About how many rows there are, found without reading them (for the progress bar): lines, cards, or the
    # sheet's own dimension. None when that cannot be told cheaply.
    estimate: int | None = None

    def rows(self) -> Iterator[Row]:
        """The rows below the header, read afresh on every call."""
        return self._rows()

    def count(self) -> int:
        return self.estimate if self.estimate is not None else sum(1 for _row in self.rows())


# --- What the file is --------------------------------------------------------------------------------------


def _what_it_is(data: bytes) -> str:
    """'csv', 'xlsx', 'vcard', 'zip' or a description of something else ("a PNG image")."""
    for magic, description in _MAGIC:
        if data.startswith(magic):
            return description
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            head_text = head.decode("utf-16", errors="ignore")
        except UnicodeError:  # pragma: no cover - errors="ignore"
            head_text = ""
    else:
        if b"\x00" in head:
            return "binary data, not text"
        head_text = head.decode("utf-8", errors="ignore")
    if head_text.lstrip("\ufeff \t\r\n").upper().startswith("BEGIN:VCARD"):
        return "vcard"
    return "csv"


def _extension(file_name: str) -> str:
    return file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""


def open_table(data: bytes, file_name: str) -> Table:
    """The file as a table, or a ValidationError on "file" saying what is wrong with it."""
    check_size(len(data))
    if not data or not data.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00"):
        raise file_error(_("The file is empty."))
    extension = _extension(file_name)
    claimed = EXTENSIONS.get(extension)
    actual = _what_it_is(data)
    if extension in ("xls", "ods", "numbers"):
        raise file_error(_("Rapport cannot read .%(ext)s files. Save the sheet as XLSX (Excel workbook) or as CSV "
                           "and upload that.") % {"ext": extension})
    if actual == "zip":
        actual = "xlsx" if _is_workbook(data) else "a zip archive, not an Excel workbook"
    if actual not in ("csv", "xlsx", "vcard"):
        named = _("named .%(ext)s but it is ") % {"ext": extension} if extension else ""
        raise file_error(_("This file is %(named)s%(what)s, not a spreadsheet. Upload a CSV, XLSX or vCard (.vcf) "
                           "file.") % {"named": named, "what": actual})
    if claimed is not None and claimed != actual:
        names = {"csv": _("CSV text"), "xlsx": _("an Excel workbook (XLSX)"), "vcard": _("a vCard file")}
        raise file_error(_("The file is named .%(ext)s but it is %(actual)s. Give it the right ending "
                           "(.csv, .xlsx or .vcf) or save it again in the format its name says.")
                         % {"ext": extension, "actual": names[actual]})
    if claimed is None and extension:
        raise file_error(_("Rapport imports .csv, .xlsx and .vcf files, not .%(ext)s.") % {"ext": extension})
    if actual == "xlsx":
        return _xlsx_table(data)
    text, note = decode_text(data)
    if actual == "vcard":
        return _vcard_table(text, note)
    return _csv_table(text, note)


# --- Text ---------------------------------------------------------------------------------------------------


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV or vCard file and a note on how it was read. UTF-8 (with or without a byte-order
    mark) and UTF-16 with a mark are read as such; text that is UTF-8 except for a few bytes is refused
    as broken; anything else is given to charset-normalizer (Windows-1252 from an old Excel, say)."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), _("%(codec)s with a byte-order mark") % {"codec": codec.upper()}
            except UnicodeDecodeError as exc:
                raise _broken(data, exc.start + len(bom), codec.upper()) from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(data):
            raise _broken(data, exc.start, "UTF-8") from None
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise file_error(_("The file's text encoding could not be recognised. Save it as \"CSV UTF-8\" and upload "
                           "it again."))
    try:
        return data.decode(best.encoding), _("read as %(encoding)s") % {"encoding": best.encoding}
    except (UnicodeDecodeError, LookupError):
        raise file_error(_("The file's text encoding could not be recognised. Save it as \"CSV UTF-8\" and upload "
                           "it again.")) from None


def _broken(data: bytes, position: int, codec: str) -> ValidationError:
    return file_error(_("The file is not valid %(codec)s: byte %(byte)s on line %(line)d cannot be read. Save it as "
                        "\"CSV UTF-8\" and upload it again.")
                      % {"codec": codec, "byte": f"0x{data[position]:02X}" if position < len(data) else "?",
                         "line": _line_of(data, position)})


# --- CSV ----------------------------------------------------------------------------------------------------


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most columns, the same number on every line."""
    lines = text.splitlines()[: SNIFF_LINES + 1]
    if len(text.splitlines()) > SNIFF_LINES + 1:
        lines = lines[:-1]  # the last one may be cut inside a quoted cell
    sample = "\n".join(lines)
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(width == widths[0] for width in widths) / len(widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_table(text: str, note: str) -> Table:
    hint = re.match(r"sep=(.)\r?\n", text[:8])  # Excel's "sep=;" first line
    if hint:
        text = text[hint.end():]
    delimiter = hint.group(1) if hint else _sniff_delimiter(text)
    csv.field_size_limit(MAX_CELL)
    try:
        header_row = next(csv.reader(_lines(text), delimiter=delimiter), [])
    except csv.Error as exc:
        raise file_error(_("The header row cannot be read: %(error)s.") % {"error": exc}) from None
    headers = _headers(header_row)
    names = {",": _("comma"), ";": _("semicolon"), "\t": _("tab"), "|": _("vertical bar")}
    notes = _("%(encoding)s, %(delimiter)s-separated") % {"encoding": note, "delimiter": names[delimiter]}

    def rows() -> Iterator[Row]:
        reader = csv.reader(_lines(text), delimiter=delimiter)
        number = 1
        try:
            next(reader, None)
            for cells in reader:
                number += 1
                if not any(cell.strip() for cell in cells):
                    continue
                yield _shaped(number, [unescape_cell(cell) for cell in cells], len(headers))
        except csv.Error as exc:
            raise file_error(_("Row %(row)d cannot be read: %(error)s. Is a quote left open?")
                             % {"row": number + 1, "error": exc}) from None

    return Table(format="csv", headers=headers, notes=notes, _rows=rows,
                 estimate=max(0, _line_breaks(text) - (0 if text.endswith(("\n", "\r")) else -1) - 1))


def _lines(text: str) -> io.StringIO:
    """The text as csv.reader wants it: lines ending in LF, CRLF or a lone CR (an older Mac's CSV), told apart
    by the reader itself, so that a line break inside a quoted cell stays part of the cell."""
    return io.StringIO(text, newline="")


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _headers(row: list[Any]) -> list[str]:
    headers = [str(cell if cell is not None else "").strip().lstrip("\ufeff") for cell in row]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise file_error(_("The first row is empty: the first row must name the columns."))
    if len(headers) > MAX_COLUMNS:
        raise file_error(_("The file has %(count)d columns; at most %(max)d.") % {"count": len(headers),
                                                                                  "max": MAX_COLUMNS})
    return headers


def _shaped(number: int, cells: list[Any], width: int) -> Row:
    """A row with as many cells as the header: extra empty cells at the end are dropped; a row with fewer
    cells, or more that are not empty, is a problem."""
    if len(cells) > width and not any(_blank(cell) is False for cell in cells[width:]):
        cells = cells[:width]
    if len(cells) == width:
        return Row(number, cells)
    if len(cells) > width:
        reason = _("The row has %(cells)d cells but the header has %(width)d columns (a separator inside a value "
                   "that is not in quotes?).") % {"cells": len(cells), "width": width}
    else:
        reason = _("The row has only %(cells)d cells but the header has %(width)d columns.") % {
            "cells": len(cells), "width": width}
    return Row(number, cells, ("", reason))


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


# --- XLSX ---------------------------------------------------------------------------------------------------


def _is_workbook(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _check_unpacked_size(data: bytes) -> zipfile.ZipFile:
    """The workbook's zip, after checking from its directory what it unpacks to: a zip bomb is refused before
    anything is unpacked. (Python's zipfile never unpacks more than a member's declared size.)"""
    archive = zipfile.ZipFile(io.BytesIO(data))
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max_unpacked_bytes() or len(archive.infolist()) > 10_000:
        raise file_error(_("The workbook unpacks to %(size)s, more than the %(limit)s an import may unpack. It is not "
                           "an ordinary spreadsheet; save the data as CSV and upload that.")
                         % {"size": human_size(unpacked), "limit": human_size(max_unpacked_bytes())})
    return archive


def _xlsx_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def _xlsx_table(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        archive = _check_unpacked_size(data)
        sheet_xml = _first_sheet_xml(archive)
        has_formulas = b"<f>" in sheet_xml or b"<f " in sheet_xml
        archive.close()
        values_book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = values_book.worksheets[0]
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
    except ValidationError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise file_error(_("The workbook cannot be read (%(error)s). Open it in your spreadsheet program and "
                           "save it again as XLSX, or save it as CSV.") % {"error": type(exc).__name__}) from None
    headers = _headers(list(first))
    width = len(headers)
    notes = _("sheet \"%(sheet)s\"") % {"sheet": sheet.title}

    def rows() -> Iterator[Row]:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False) if has_formulas else None
        values = book.worksheets[0].iter_rows(min_row=2, values_only=True)
        sources = formulas.worksheets[0].iter_rows(min_row=2, values_only=True) if formulas else None
        try:
            for number, raw in enumerate(values, start=2):
                source = next(sources, ()) if sources is not None else ()
                if all(_blank(value) for value in raw):
                    continue
                cells = [_xlsx_cell(value) for value in raw]
                problem = None
                for index, value in enumerate(raw):
                    formula = source[index] if index < len(source) else None
                    if value is None and isinstance(formula, str) and formula.startswith("="):
                        column = headers[index] if index < width else ""
                        problem = (column, _("The cell holds the formula %(formula)s without a saved value. Open "
                                             "the file in your spreadsheet program and save it again, or paste the "
                                             "values in place of the formulas.") % {"formula": formula[:100]})
                        break
                row = _shaped(number, cells, width)
                if problem is not None and row.problem is None:
                    row.problem = problem
                yield row
        finally:
            book.close()
            if formulas is not None:
                formulas.close()

    return Table(format="xlsx", headers=headers, notes=notes, _rows=rows)


def _first_sheet_xml(archive: zipfile.ZipFile) -> bytes:
    names = sorted(name for name in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name))
    if not names:
        raise file_error(_("The workbook has no sheet."))
    return archive.read(names[0])


# --- vCard --------------------------------------------------------------------------------------------------

VCARD_HEADERS = ["Full name", "First name", "Last name", "Email", "Other email", "Phone", "Mobile", "Company",
                 "Job title", "Street", "City", "Region", "Postal code", "Country", "Notes"]


def _vcard_table(text: str, note: str) -> Table:
    import vobject

    def rows() -> Iterator[Row]:
        number = 0
        try:
            for card in vobject.readComponents(text, ignoreUnreadable=True):
                number += 1
                if card.name.upper() != "VCARD":
                    continue
                cells = _card_cells(card)
                problem = None
                if not (cells[0] or cells[1] or cells[2]):
                    problem = ("FN", _("The card has no name (neither FN nor N)."))
                yield Row(number, cells, problem)
        except Exception as exc:  # vobject raises ParseError and others for a damaged card
            raise file_error(_("Card %(number)d cannot be read: %(error)s.")
                             % {"number": number + 1, "error": str(exc)[:200] or type(exc).__name__}) from None

    if not re.search(r"(?im)^BEGIN:VCARD", text):
        raise file_error(_("The file holds no vCard."))
    return Table(format="vcard", headers=list(VCARD_HEADERS), notes=note, _rows=rows,
                 estimate=len(re.findall(r"(?im)^BEGIN:VCARD", text)))


def _parts(value: Any, count: int) -> list[str]:
    """The components of a structured value (N, ADR, ORG) however vobject gives it: an object, a list or text."""
    if isinstance(value, str):
        items = re.split(r"(?<!\\);", value)
        items = [item.replace("\\;", ";").replace("\\,", ",") for item in items]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return []
    items = [" ".join(item) if isinstance(item, list) else str(item or "") for item in items]
    return (items + [""] * count)[:count]


def _types(line: Any) -> set[str]:
    found: set[str] = set()
    for name in ("TYPE", "type"):
        for value in line.params.get(name, []):
            found.update(part.strip().lower() for part in str(value).split(","))
    if line.params.get("PREF") or line.params.get("pref"):
        found.add("pref")
    return found


def _ordered(lines: list[Any]) -> list[Any]:
    return sorted(lines, key=lambda line: "pref" not in _types(line))


def _card_cells(card: Any) -> list[str]:
    contents = card.contents

    def first_text(name: str) -> str:
        for line in contents.get(name, []):
            value = line.value
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            text = str(value or "").strip()
            if text:
                return text
        return ""

    full_name = first_text("fn")
    first = last = ""
    for line in contents.get("n", []):
        value = line.value
        if hasattr(value, "family"):
            last = " ".join(value.family) if isinstance(value.family, list) else str(value.family or "")
            first = " ".join(value.given) if isinstance(value.given, list) else str(value.given or "")
        else:
            last, first = _parts(value, 2)
        break
    emails = [str(line.value).strip() for line in _ordered(contents.get("email", [])) if str(line.value).strip()]
    phone = mobile = ""
    for line in _ordered(contents.get("tel", [])):
        number = str(line.value).strip().removeprefix("tel:")
        kinds = _types(line)
        if ("cell" in kinds or "mobile" in kinds) and not mobile:
            mobile = number
        elif not phone:
            phone = number
    company = ""
    for line in contents.get("org", []):
        value = line.value
        company = (_parts(value, 1) or [""])[0] if not isinstance(value, str) else value.split(";")[0]
        company = company.strip()
        break
    street = city = region = postal_code = country = ""
    addresses = contents.get("adr", [])
    if addresses:
        work = [line for line in addresses if "work" in _types(line)]
        line = (work or _ordered(addresses))[0]
        value = line.value
        if hasattr(value, "street"):
            def text(part: Any) -> str:
                return " ".join(part) if isinstance(part, list) else str(part or "")
            street = " ".join(p for p in (text(value.street), text(value.extended)) if p)
            city, region, postal_code, country = (text(value.city), text(value.region), text(value.code),
                                                  text(value.country))
        else:
            _box, extended, street_part, city, region, postal_code, country = _parts(value, 7)
            street = " ".join(p for p in (street_part, extended) if p)
    return [full_name, first.strip(), last.strip(), emails[0] if emails else "", emails[1] if len(emails) > 1 else "",
            phone, mobile, company, first_text("title"), street.strip(), city.strip(), region.strip(),
            postal_code.strip(), country.strip(), first_text("note")]
